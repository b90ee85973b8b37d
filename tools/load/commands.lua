-- wrk script: POST /v1/commands with a unique commandId (and case id) per request.
-- Env: DOCKET_TOKEN (bearer), DOCKET_ORG (organisation of the contact), DOCKET_CONTACT.
local token = os.getenv("DOCKET_TOKEN") or ""
local org = os.getenv("DOCKET_ORG") or "load-org"
local contact = os.getenv("DOCKET_CONTACT") or "load-contact"
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
    '{"commandId":"%s","type":"open-case","streamId":"case-L%s","payload":{"caseID":"L%s","organisationID":"%s",' ..
    '"contactID":"%s","subject":"load","description":"load test","topic":"payroll","caseType":"support",' ..
    '"subType":"question","severity":"P3","region":"sweden","site":"HQ","product":"TimeCare","stage":"production","channel":"portal",' ..
    '"callMe":false,"cc":[]}}', id, id, id, org, contact)
  return wrk.format("POST", "/v1/commands",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
