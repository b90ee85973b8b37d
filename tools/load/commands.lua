-- wrk script: POST /v1/commands with a unique commandId per request.
-- DOCKET_KIND=open-case (default): opens a new case each time (unique case id).
-- DOCKET_KIND=add-comment: comments on one of the DOCKET_CASES cases load.sh opened beforehand
-- (case-load-c1 ... case-load-cN, default 512), chosen at random: commands on existing cases, which most
-- of a desk's traffic is.
-- Env: DOCKET_TOKEN (bearer), DOCKET_ORG (organisation of the contact), DOCKET_CONTACT.
local token = os.getenv("DOCKET_TOKEN") or ""
local kind = os.getenv("DOCKET_KIND") or "open-case"
local cases = tonumber(os.getenv("DOCKET_CASES") or "512")
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
  local body
  if kind == "add-comment" then
    body = string.format(
      '{"commandId":"%s","type":"add-comment","streamId":"case-load-c%d","payload":{"commentID":"%s","body":"still happening","visibility":"public"}}',
      id, math.random(1, cases), id)
  else
    body = string.format(
      '{"commandId":"%s","type":"open-case","streamId":"case-L%s","payload":{"caseID":"L%s","organisationID":"%s",' ..
      '"contactID":"%s","subject":"load","description":"load test","topic":"payroll","caseType":"support",' ..
      '"subType":"question","severity":"P3","region":"sweden","site":"HQ","product":"TimeCare","stage":"production","channel":"portal",' ..
      '"callMe":false,"cc":[]}}', id, id, id, org, contact)
  end
  return wrk.format("POST", "/v1/commands",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
