-- wrk script: GET a query route (DOCKET_PATH, default /v1/log/head) with a bearer token.
local token = os.getenv("DOCKET_TOKEN") or ""
local path = os.getenv("DOCKET_PATH") or "/v1/log/head"
request = function()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
