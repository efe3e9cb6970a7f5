"""The language of the pages: Azerbaijani unless the person chose English, and the
texts of the pages in both languages."""
LANGUAGES = ("az", "en")
DEFAULT = "az"


def choose_language(asked=None, cookie=None):
    """A language asked for now (``?lang=en``, no personal data) wins over the one
    remembered in the cookie; anything unknown falls back to Azerbaijani."""
    for candidate in (asked, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def pick(texts, lang):
    """``{"az": …, "en": …}`` (as the services answer) → the text in ``lang``."""
    if not isinstance(texts, dict):
        return str(texts or "")
    return texts.get(lang) or texts.get(DEFAULT) or texts.get("en") or ""


# Labels and sentences of the pages. Field labels follow the annex form of seed 000
# and seed 001 §3.2.
TEXT = {
    "site_title": ("ASAN xidmət", "ASAN service"),
    "skip": ("Əsas məzmuna keç", "Skip to main content"),
    "language": ("Dil", "Language"),
    "home": ("Ana səhifə", "Home"),
    "home_intro": ("Onlayn xidmətlər: növbə, FİN, şikayət.",
                   "Online services: queue booking, FIN, complaints."),
    "nav_booking": ("Onlayn növbə", "Book a visit"),
    "nav_cancel": ("Növbəni ləğv et", "Cancel a booking"),
    "nav_reschedule": ("Növbənin vaxtını dəyiş", "Move a booking"),
    "nav_order_code": ("Sifariş kodunu itirmisiniz?", "Lost your order code?"),
    "nav_fin": ("FİN-i öyrən", "Find your FIN"),
    "nav_complaint": ("Şikayət", "File a complaint"),
    "required_note": ("* ilə işarələnmiş sahələr mütləqdir.", "Fields marked * are required."),
    "errors_title": ("Sorğu qəbul edilmədi. Səbəblər:", "The request was not accepted. Reasons:"),
    # booking (seed 000, annex form)
    "booking_title": ("“ASAN xidmət” mərkəzində onlayn növbə", "Book a visit to an ASAN centre"),
    "booking_intro": ("Növbə ən geci bir gün əvvəldən götürülür.",
                      "A visit must be booked at least one day ahead."),
    "applicant": ("Ərizəçi", "Applicant"),
    "visit": ("Xidmət və vaxt", "Service and time"),
    "name": ("Ad", "Name"),
    "surname": ("Soyad", "Surname"),
    "patronymic": ("Ata adı", "Patronymic"),
    "id_card": ("Ş/V seriyası və nömrəsi", "ID card series and number"),
    "id_card_hint": ("Məsələn AZE12345678 və ya AA1234567", "For example AZE12345678 or AA1234567"),
    "phone": ("Telefon", "Phone"),
    "phone_hint": ("Məsələn +994 50 123 45 67", "For example +994 50 123 45 67"),
    "email": ("E-poçt", "Email"),
    "service": ("Xidmətin adı", "Service"),
    "centre": ("Xidmətin Mərkəzi", "Service centre"),
    "date": ("Tarix", "Date"),
    "time": ("Saat", "Time"),
    # A date is typed day first, as written here, whatever the browser's language.
    "date_hint": ("Gün.ay.il (GG.AA.İİİİ)", "Day.month.year (DD.MM.YYYY)"),
    "for_example": ("məsələn", "for example"),
    "chosen_day": ("Seçilmiş gün: {day}", "Chosen day: {day}"),
    "bring": ("Özünüzlə gətirin", "What to bring"),
    "bring_text": ("Şəxsiyyət vəsiqəsi (və ya pasport) və e-poçtla gələn sifariş kodu: "
                   "mərkəzdə onu növbə aparatına (kiosk) daxil edib bilet alırsınız. "
                   "Xidmət üçün lazım olan sənədləri də gətirin.",
                   "Your ID card (or passport) and the order code from the email: at the "
                   "centre you enter it at the queue kiosk to get your ticket. Bring the "
                   "documents the service needs as well."),
    "choose": ("— seçin —", "— choose —"),
    "pick_day_first": ("— əvvəlcə xidməti, mərkəzi və tarixi seçin —",
                       "— first choose the service, centre and date —"),
    "no_free_times": ("— bu gün üçün boş vaxt yoxdur —", "— no free times on this day —"),
    "free_of": ("boş yer", "free"),
    "show_times": ("Boş vaxtları göstər", "Show free times"),
    "send_code": ("Təsdiqedici şifrə e-poçt ünvanına göndərilsin",
                  "Send the confirmation code to my email"),
    "code_title": ("Təsdiqedici şifrə", "Confirmation code"),
    "code_sent": ("Təsdiqedici şifrə e-poçt ünvanınıza göndərildi. Onu aşağıya yazıb “Göndər” "
                  "düyməsini sıxın.", "A confirmation code has been sent to your email. Type it "
                  "below and press “Send”."),
    "code": ("Təsdiqedici şifrə", "Confirmation code"),
    "code_hint": ("6 rəqəm, e-poçtdan", "6 digits, from the email"),
    "hold_until": ("Vaxt sizin üçün bu vaxtadək saxlanılır", "The time is held for you until"),
    "send": ("Göndər", "Send"),
    "start_again": ("Yenidən başla", "Start again"),
    "done_title": ("Növbə qeydə alındı", "Your booking is registered"),
    "summary": ("Növbənin məlumatları", "Booking summary"),
    "status": ("Vəziyyət", "Status"),
    "status_confirmed": ("təsdiq edilib", "confirmed"),
    "status_cancelled": ("ləğv edilib", "cancelled"),
    "order_code_by_mail": ("Mərkəzdə sifariş kodunu növbə aparatına (kiosk) daxil edin: o, "
                           "sizə bilet verəcək.", "At the centre, enter the order code at the "
                           "queue kiosk: it will print your ticket."),
    "address": ("Ünvan", "Address"),
    # cancel
    "cancel_title": ("Növbənin ləğvi", "Cancel a booking"),
    "cancel_intro": ("E-poçtla aldığınız sifariş kodunu yazın.",
                     "Type the order code you received by email."),
    "order_code": ("Sifariş kodu", "Order code"),
    "order_code_hint": ("Məsələn K7M2-QX4P", "For example K7M2-QX4P"),
    "cancel_button": ("Növbəni ləğv et", "Cancel the booking"),
    "cancelled_title": ("Növbə ləğv olundu", "The booking has been cancelled"),
    "move_instead": ("Başqa vaxt lazımdırsa, növbəni ləğv etmədən vaxtını dəyişə bilərsiniz.",
                     "If you need another time, you can move the booking instead of "
                     "cancelling it."),
    # moving a booking, a lost order code (issue 17 §5)
    "reschedule_title": ("Növbənin vaxtının dəyişdirilməsi", "Move a booking"),
    "reschedule_intro": ("E-poçtla aldığınız sifariş kodunu və yeni tarixi yazın: həmin gün "
                         "növbənizin mərkəzindəki boş vaxtlar göstəriləcək. Mərkəz və xidmət "
                         "eyni qalır.", "Type the order code you received by email and the "
                         "new date: the free times of that day at your booking's centre will "
                         "be shown. The centre and the service stay the same."),
    "new_date": ("Yeni tarix", "New date"),
    "new_time": ("Yeni saat", "New time"),
    "pick_new_day_first": ("— əvvəlcə yeni tarixi seçin —", "— first choose the new date —"),
    "current_visit": ("Hazırkı növbəniz", "Your booking now"),
    "reschedule_choose": ("Yeni vaxtı seçin", "Choose the new time"),
    "reschedule_button": ("Növbəni bu vaxta keçir", "Move my booking to this time"),
    "reschedule_other_code": ("Başqa sifariş kodu ilə", "With another order code"),
    "rescheduled_title": ("Növbənin vaxtı dəyişdirildi", "Your booking has been moved"),
    "new_visit": ("Yeni vaxt", "The new time"),
    "manage_title": ("Növbəni idarə etmək", "Managing your booking"),
    "manage_text": ("Sifariş kodu ilə növbənin vaxtını dəyişə və ya onu ləğv edə bilərsiniz.",
                    "With the order code you can move the booking or cancel it."),
    "order_code_title": ("Sifariş kodunun bərpası", "Lost your order code?"),
    "order_code_intro": ("Növbəni götürərkən yazdığınız şəxsiyyət vəsiqəsini, e-poçt ünvanını "
                         "və növbənin tarixini daxil edin. Uyğun təsdiqlənmiş növbə varsa, yeni "
                         "sifariş kodu həmin e-poçt ünvanına göndəriləcək və əvvəlki kod "
                         "etibarsız olacaq.", "Enter the ID card and the email address you "
                         "booked with, and the date of the visit. If a confirmed booking "
                         "matches, a new order code will be sent to that email address and the "
                         "previous code will stop working."),
    "visit_date": ("Növbənin tarixi", "Date of the visit"),
    "order_code_button": ("Yeni sifariş kodu göndərilsin", "Send me a new order code"),
    "order_code_sent_title": ("Sorğunuz qəbul edildi", "Your request has been received"),
    "order_code_sent_text": ("Bu məlumatlara uyğun təsdiqlənmiş növbə varsa, yeni sifariş kodu "
                             "onun e-poçt ünvanına göndərildi; əvvəlki kod artıq etibarlı "
                             "deyil. Məktub bir neçə dəqiqəyə gəlməsə, məlumatları yoxlayıb "
                             "yenidən cəhd edin.", "If a confirmed booking matches these "
                             "details, a new order code has been sent to its email address; "
                             "the previous code no longer works. If no email arrives within a "
                             "few minutes, check the details and try again."),
    # FIN (seed 001 §3.2)
    "fin_title": ("Fərdi identifikasiya nömrəsi (FİN)", "Personal identification number (FIN)"),
    "fin_intro": ("Şəxsiyyət vəsiqəsinin seriya və nömrəsini, vəsiqə olmadıqda isə ad, soyad, "
                  "ata adı və doğum tarixini daxil edin.", "Enter your ID card series and "
                  "number or, without an ID card, your name, surname, patronymic and birth "
                  "date."),
    "by_card": ("Şəxsiyyət vəsiqəsi ilə", "By ID card"),
    "by_name": ("Şəxsiyyət vəsiqəsi olmadıqda", "Without an ID card"),
    "birth_date": ("Doğum tarixi", "Birth date"),
    "search": ("Axtar", "Search"),
    "fin_result_title": ("Sizin FİN", "Your FIN"),
    "fin_again": ("Yeni axtarış", "New search"),
    # complaint (C-1, C-2)
    "complaint_title": ("Şikayət", "Complaint"),
    "complaint_intro": ("Şikayətdə adınız, atanızın adı, soyadınız, ünvanınız, həmçinin e-poçt "
                        "və ya poçt ünvanınız, yaxud iş yeriniz göstərilməlidir.",
                        "A complaint must give your name, patronymic, surname and address, "
                        "and an email or postal address, or your workplace."),
    "complaint_about": ("Şikayət nə barədədir", "What the complaint is about"),
    "svc_queue_booking": ("Onlayn növbə", "Online queue booking"),
    "svc_fin_lookup": ("FİN axtarışı", "FIN lookup"),
    "complaint_text": ("Şikayətin mətni", "Your complaint"),
    "contact": ("Əlaqə: e-poçt, poçt ünvanı və ya iş yeri (ən azı biri)",
                "Contact: email, postal address or workplace (at least one)"),
    "postal_address": ("Poçt ünvanı", "Postal address"),
    "workplace": ("İş yeri", "Workplace"),
    "file_complaint": ("Şikayəti göndər", "Send the complaint"),
    "complaint_done_title": ("Şikayətiniz qəbul edildi", "Your complaint has been received"),
    "reference": ("Qeydiyyat nömrəsi", "Reference number"),
    "due_on": ("Cavab veriləcək son tarix", "To be answered by"),
    "complaint_done_note": ("Bu nömrəni saxlayın. Şikayətə bir ay ərzində baxılır.",
                            "Keep this number. Complaints are reviewed within one month."),
    # the counter page (issue 17 §2, staff)
    "counter_title": ("Masa", "Counter"),
    "counter_token_title": ("Masaya giriş", "Counter sign-in"),
    "counter_token_intro": ("Administratorun bu masa üçün verdiyi açarı daxil edin. Açar "
                            "yalnız bu brauzerdə saxlanılır.", "Enter the token the "
                            "administrators gave for this counter. It is kept in this "
                            "browser only."),
    "counter_token": ("Masanın açarı", "Counter token"),
    "counter_token_button": ("Daxil ol", "Sign in"),
    "counter_forget": ("Bu brauzeri masadan çıxart", "Sign this browser out of the counter"),
    "counter_centre": ("Mərkəz", "Centre"),
    "counter_not_serving": ("Masa hələ işə başlamayıb: xidmətləri seçin.",
                            "The counter is not serving yet: choose its services."),
    "counter_services": ("Bu masanın xidmətləri", "Services of this counter"),
    "counter_start": ("İşə başla", "Start serving"),
    "counter_stop": ("İşi bitir", "Stop serving"),
    "counter_serving": ("Xidmətlər", "Serving"),
    "counter_current": ("Cari bilet", "Current ticket"),
    "counter_no_current": ("Hazırda çağırılmış bilet yoxdur.", "No ticket is called now."),
    "counter_booked_time": ("Qeydiyyat vaxtı", "Booked time"),
    "counter_walk_in": ("növbəsiz (kiosk)", "walk-in (kiosk)"),
    "counter_issued": ("Bilet verilib", "Ticket issued"),
    "counter_called": ("Çağırılıb", "Called"),
    "counter_recalls": ("Təkrar çağırış", "Recalls"),
    "counter_waiting": ("Növbədə gözləyənlər", "Waiting in the queue"),
    "counter_call_next": ("Növbətini çağır", "Call next"),
    "counter_recall": ("Təkrar çağır", "Recall"),
    "counter_served": ("Xidmət göstərildi", "Served"),
    "counter_no_show": ("Gəlmədi", "No-show"),
    "counter_transfer": ("Yönləndir", "Transfer"),
    "counter_transfer_to": ("Başqa xidmətin növbəsinə", "To another service's queue"),
    "counter_keys": ("Klaviatura: N — növbəti, R — təkrar çağır, S — xidmət göstərildi, "
                     "X — gəlmədi, T — yönləndir.", "Keyboard: N call next, R recall, "
                     "S served, X no-show, T transfer."),
    "counter_refused": ("Alınmadı", "Not done"),
    # the display board (issue 17 §2, public; shows both languages at once)
    "board_title": ("Elektron tablo", "Display board"),
    "board_ticket": ("Bilet", "Ticket"),
    "board_counter": ("Masa", "Counter"),
    "board_service": ("Xidmət", "Service"),
    "board_waiting": ("Növbədə", "Waiting"),
    "board_empty": ("Hələ bilet çağırılmayıb", "No ticket has been called yet"),
    "board_reconnecting": ("Əlaqə bərpa olunur…", "Reconnecting…"),
    "board_unknown": ("Belə mərkəz yoxdur", "There is no such centre"),
    # errors
    "csrf_title": ("Forma köhnəlib və ya başqa saytdan göndərilib",
                   "The form has expired or was sent from another site"),
    "csrf_text": ("Təhlükəsizlik üçün sorğu qəbul edilmədi. Səhifəni yenidən açıb formanı "
                  "təkrar göndərin.", "For your security the request was not accepted. Open "
                  "the page again and send the form once more."),
    "unavailable_title": ("Xidmət müvəqqəti əlçatan deyil", "The service is temporarily "
                          "unavailable"),
    "unavailable_text": ("Zəhmət olmasa bir az sonra yenidən cəhd edin.",
                         "Please try again a little later."),
    "not_found_title": ("Belə səhifə yoxdur", "There is no such page"),
    "back_home": ("Ana səhifəyə qayıt", "Back to the home page"),
}


def text(key, lang):
    """The text ``key`` of the pages in ``lang`` (``en``, else Azerbaijani)."""
    az, en = TEXT[key]
    return en if lang == "en" else az
