-- wrk script: client_credentials at Portico's token endpoint.
--
--   CLIENT_ID=... CLIENT_SECRET=... \
--   wrk -t2 -c64 -d10s --latency -s docs/bench/token.lua http://127.0.0.1:PORT/token
--
-- Make the client with `portico client create --org SLUG --name bench --type service --json`.
-- Loopback only: the portal and wrk share the machine, so compare with a
-- reference measured in the same run (wrk on /healthz), not across runs.
-- Any answer but 200 is counted and reported at the end: a wrong secret
-- shows up as errors rather than as a fast benchmark of 401s.

local id = os.getenv("CLIENT_ID") or error("set CLIENT_ID")
local secret = os.getenv("CLIENT_SECRET") or error("set CLIENT_SECRET")

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- base64 for the Basic header (LuaJIT has no library for it).
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for j = 1, 4 do
      if j <= chars then
        local k = math.floor(n / 2 ^ (6 * (4 - j))) % 64
        out[#out + 1] = alphabet:sub(k + 1, k + 1)
      else
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end

-- RFC 6749 §2.3.1: id and secret are form-encoded before Basic; Portico's
-- generated ones are URL-safe already.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. base64(id .. ":" .. secret)

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failed = 0
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("failed")
  end
  io.write(string.format("non-200 answers: %d\n", n))
end
