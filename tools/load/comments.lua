-- wrk script: POST /v1/commands add-comment (unique commandId and comment id) on one of the
-- DOCKET_CASES cases load.sh opened beforehand (case-load-c1 ... case-load-cN), chosen at random:
-- commands on existing cases, which most of a desk's traffic is.
-- Env: DOCKET_TOKEN (bearer of the contact who opened them), DOCKET_CASES (default 512).
local token = os.getenv("DOCKET_TOKEN") or ""
local cases = tonumber(os.getenv("DOCKET_CASES") or "512")
local counter = 0
local prefix

function setup(thread)
  thread:set("tid", tostring(math.random(1, 2^31)))
end

function init(args)
  prefix = string.format("%08x", tonumber(tid) or math.random(1, 2^31))
  math.randomseed(os.time() + (tonumber(tid) or 0))
end

local function uuid()
  counter = counter + 1
  return string.format("%s-%04x-4%03x-a%03x-%012x", prefix, math.random(0, 0xffff), math.random(0, 0xfff),
    math.random(0, 0xfff), counter)
end

request = function()
  local id = uuid()
  local body = string.format(
    '{"commandId":"%s","type":"add-comment","streamId":"case-load-c%d","payload":{"commentID":"%s","body":"still happening","visibility":"public"}}',
    id, math.random(1, cases), id)
  return wrk.format("POST", "/v1/commands",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
