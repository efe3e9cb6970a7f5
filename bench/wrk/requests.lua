-- wrk script of bench.common.wrk: every request a distinct line of a prepared file.
--
--   BENCH_WRK_FILE     one request a line: METHOD \t PATH \t CLIENT ADDRESS \t BODY
--   BENCH_WRK_HEADERS  JSON object of headers sent with every request (flat strings)
--
-- Line i goes to thread i mod N (N = BENCH_WRK_THREADS, wrk's -t), so no two requests are the same (each
-- booking is another citizen, with a slot of its own); when a thread runs out of
-- lines the run is marked "exhausted" and bench.common refuses its figures, unless
-- BENCH_WRK_CYCLE=1 (queries that may repeat: it starts over). The
-- client address goes in X-Asan-Client-Address (believed with the pages' token, see
-- shared/edge/clients.py). done() prints one line "BENCH-JSON {...}" for bench.common.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function parse_headers(text)
  -- The JSON is a flat object of strings, written by bench.common: a pattern suffices.
  local headers = {}
  for key, value in string.gmatch(text or "", '"([^"]+)"%s*:%s*"([^"]*)"') do
    headers[key] = value
  end
  return headers
end

function init(args)
  lines = {}
  local n = 0
  local total = tonumber(os.getenv("BENCH_WRK_THREADS") or "0")
  for line in io.lines(os.getenv("BENCH_WRK_FILE")) do
    if n % total == index then
      table.insert(lines, line)
    end
    n = n + 1
  end
  common = parse_headers(os.getenv("BENCH_WRK_HEADERS"))
  common["Content-Type"] = "application/json"
  next_line = 1
  exhausted = 0
  cycle = os.getenv("BENCH_WRK_CYCLE") == '1'
  statuses = {}
end

function request()
  local line = lines[next_line]
  if line == nil then
    if cycle then
      next_line = 2
    else
      exhausted = 1
    end
    line = lines[1]
  else
    next_line = next_line + 1
  end
  local method, path, address, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local headers = {}
  for k, v in pairs(common) do headers[k] = v end
  if address ~= "" then headers["X-Asan-Client-Address"] = address end
  if body == "" then body = nil end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged, any_exhausted = {}, 0
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for k, v in pairs(counts) do merged[k] = (merged[k] or 0) + v end
    if thread:get("exhausted") == 1 then any_exhausted = 1 end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "exhausted": %s, "statuses": {%s}, "socket_errors": ' ..
    '{"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, any_exhausted == 1 and "true" or "false", table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout))
end
