-- wrk driver for PocketBase's records API, the same operations as api.lua:
-- wrk ... -s bench/wrk/pocketbase.lua -- MODE TOKEN ARG
--   get N      GET a random record c…1..N
--   email N    list with filter (email='userK@…') for a random K in 1..N
--   update N   PATCH one field of a random record c…1..N
--   create     POST a new record
--   delete S:W DELETE c…S+1, S+2, … (thread k starts at S + k*W; each id once)
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode, token, arg = args[1], args[2], args[3]
  math.randomseed(os.time() + index * 7919)
  headers = { ["Authorization"] = token, ["Content-Type"] = "application/json" }
  base = "/api/collections/customers/records"
  counter = 0
end

local function id(n)
  return string.format("c%014d", n)
end

local create_body = '{"organization":"org1","first_name":"Bench","last_name":"Created","email":"bench@example.com",'
  .. '"phone":"+15550100","language":"en","city":"Springfield","country":"US"}'
local update_body = '{"last_name":"Updated","metadata":{"tier":"gold"}}'

function request()
  if mode == "get" then
    return wrk.format("GET", base .. "/" .. id(math.random(1, tonumber(arg))), headers)
  elseif mode == "email" then
    local k = math.random(1, tonumber(arg))
    local filter = string.format("(email='user%d@example%d.com')", k, k % 7)
    return wrk.format("GET", base .. "?perPage=20&skipTotal=1&filter=" .. filter:gsub("[^%w]", function(c)
      return string.format("%%%02X", string.byte(c)) end), headers)
  elseif mode == "update" then
    return wrk.format("PATCH", base .. "/" .. id(math.random(1, tonumber(arg))), headers, update_body)
  elseif mode == "create" then
    return wrk.format("POST", base, headers, create_body)
  elseif mode == "delete" then
    counter = counter + 1
    local start, stride = arg:match("(%d+):(%d+)")
    return wrk.format("DELETE", base .. "/" .. id(tonumber(start) + index * tonumber(stride) + counter), headers)
  end
end
