-- wrk script: POST /predict with a rotation of multipart bodies (valid and invalid uploads).
-- BODIES_DIR holds body files 1..COUNT; BOUNDARY is their multipart boundary.
local dir, count = os.getenv("BODIES_DIR"), tonumber(os.getenv("COUNT"))
local bodies = {}
for i = 1, count do
  local file = io.open(dir .. "/" .. i .. ".body", "rb")
  bodies[i] = file:read("*a")
  file:close()
end
local headers = {["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("BOUNDARY")}
local n = 0
server_errors = 0  -- global: done() reads each thread's count through thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  return wrk.format("POST", "/predict", headers, bodies[(n % count) + 1])
end

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local e = summary.errors
  local fives = 0
  for _, thread in ipairs(threads) do fives = fives + thread:get("server_errors") end
  io.write(string.format("RESULT requests=%d server_errors=%d socket_errors=%d timeouts=%d\n",
    summary.requests, fives, e.connect + e.read + e.write, e.timeout))
end
