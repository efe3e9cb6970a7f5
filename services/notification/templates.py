"""Versioned email templates (Jinja2), in Azerbaijani and English, with a text and
an HTML part. Codes are rendered into the body only, never the subject (subjects end
up in mail server logs). A day (ISO in the request's variables) is shown with the
filter ``day``: ``{{ date | day(language) }}`` → ``çərşənbə axşamı, 08.12.2026``
(``shared.vocabulary.dates``); a template that starts showing days differently is a new version."""
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.vocabulary.dates import day_text

FOLDER = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    """A template rendered: its name, version, language, subject, text and HTML."""
    template: str
    version: int
    language: str
    subject: str
    text: str
    html: str


class UnknownTemplate(LookupError):
    """A template name not in the catalogue."""
    pass


class Templates:
    """The versioned email templates (``templates/<name>/v<version>/<language>/``) and their
    catalogue of current versions."""
    def __init__(self, folder=FOLDER):
        self.folder = Path(folder)
        self.versions = yaml.safe_load((self.folder / "catalog.yaml").read_text("utf-8"))
        self._env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(self.folder))]),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined, keep_trailing_newline=True)
        self._env.filters["day"] = day_text

    def render(self, template, language, variables):
        """Render the current version of ``template`` in ``language`` with ``variables``;
        ``UnknownTemplate`` for an unknown name, Jinja2's ``UndefinedError`` for a
        missing variable."""
        if template not in self.versions:
            raise UnknownTemplate(template)
        version = int(self.versions[template])
        base = f"{template}/v{version}/{language}"
        context = dict(variables, language=language)
        subject = self._env.get_template(f"{base}/subject.txt").render(context).strip()
        text = self._env.get_template(f"{base}/body.txt").render(context)
        html = self._env.get_template(f"{base}/body.html").render(context)
        return RenderedEmail(template, version, language, subject, text, html)
