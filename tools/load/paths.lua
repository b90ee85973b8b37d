-- wrk script: GET each path of DOCKET_PATHS_FILE (one per line) in turn, with a bearer token (DOCKET_TOKEN).
local token = os.getenv("DOCKET_TOKEN") or ""
local paths = {}
for line in io.lines(os.getenv("DOCKET_PATHS_FILE")) do
  if #line > 0 then paths[#paths + 1] = line end
end
assert(#paths > 0, "DOCKET_PATHS_FILE lists no paths")
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], { ["Authorization"] = "Bearer " .. token })
end
