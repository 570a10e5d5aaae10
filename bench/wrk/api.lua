-- wrk driver for clientele: wrk ... -s bench/wrk/api.lua -- MODE ORG KEY ARG
--   get N      GET a random customer cus_1..N (S:N: cus_S+1..S+N)
--   update N   PUT a random customer cus_1..N
--   create     POST a new customer
--   delete S:W DELETE cus_S+1, S+2, ... (thread k starts at S + k*W; each id once)
--   deletefile F:S:N:T  DELETE the ids of lines S+1..S+N of file F, each once (T threads take turns;
--              past the last line, the last id again: a 404 the bench stops at)
--   path P     GET path P (query string included)
--   email N    the list filtered by the email of a random customer 1..N (the seed's userK@exampleK%7.com)
--   keyed      POST a new customer with a new Idempotency-Key each time
--   replay K   POST with Idempotency-Key K (per thread): one run, then replays
--   etag N     GET a random customer cus_1..N with If-None-Match: "1" (304)
--   wrong      GET the list with KEY's id and a random wrong secret (401/429)
--   session N  GET a random customer cus_1..N through the console's API, KEY
--              being a session cookie (clientele_session=…)
--   page P     GET path P (a console page), KEY being a session cookie
--   signin E|P|D  POST the sign-in form: email E, password P, device cookie D
--   guess E,F… POST the sign-in form with a wrong password for E, F, … in turn
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode, org, key, arg = args[1], args[2], args[3], args[4]
  math.randomseed(os.time() + index * 7919)
  headers = { ["Authorization"] = "ApiKey " .. key, ["Content-Type"] = "application/json" }
  base = "/v1/public-api/organizations/" .. org .. "/customers"
  counter = 0
end

local create_body = '{"firstName":"Bench","lastName":"Created","email":"bench@example.com",'
  .. '"phoneNumber":"+1 555 0100","language":"en","address":{"city":"Springfield","country":"US"}}'
local update_body = '{"lastName":"Updated","metadata":{"tier":"gold"}}'

function request()
  if mode == "get" then
    local start, n = arg:match("(%d+):(%d+)")
    start, n = tonumber(start or 0), tonumber(n or arg)
    return wrk.format("GET", string.format("%s/cus_%032x", base, start + math.random(1, n)), headers)
  elseif mode == "email" then
    local k = math.random(1, tonumber(arg))
    return wrk.format("GET", string.format("%s?email=user%d%%40example%d.com", base, k, k % 7), headers)
  elseif mode == "update" then
    return wrk.format("PUT", string.format("%s/cus_%032x", base, math.random(1, tonumber(arg))), headers, update_body)
  elseif mode == "create" then
    return wrk.format("POST", base, headers, create_body)
  elseif mode == "keyed" then
    counter = counter + 1
    local keyed = { ["Authorization"] = headers["Authorization"], ["Content-Type"] = "application/json",
                    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), index, counter) }
    return wrk.format("POST", base, keyed, create_body)
  elseif mode == "replay" then
    local replayed = { ["Authorization"] = headers["Authorization"], ["Content-Type"] = "application/json",
                       ["Idempotency-Key"] = arg .. "-" .. index }
    return wrk.format("POST", base, replayed, create_body)
  elseif mode == "etag" then
    local conditional = { ["Authorization"] = headers["Authorization"], ["If-None-Match"] = '"1"' }
    return wrk.format("GET", string.format("%s/cus_%032x", base, math.random(1, tonumber(arg))), conditional)
  elseif mode == "wrong" then
    local guess = { ["Authorization"] = "ApiKey " .. key:sub(1, #key - 64)
                    .. string.format("%016x%016x%016x%016x", math.random(0, 2^31), math.random(0, 2^31),
                                     math.random(0, 2^31), math.random(0, 2^31)) }
    return wrk.format("GET", base, guess)
  elseif mode == "session" then
    local signed = { ["Cookie"] = key }
    return wrk.format("GET", string.format("/console/api%s/cus_%032x", base, math.random(1, tonumber(arg))), signed)
  elseif mode == "page" then
    return wrk.format("GET", arg, { ["Cookie"] = key })
  elseif mode == "signin" then
    local email, password, device = arg:match("([^|]+)|([^|]+)|(.*)")
    local form = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = device }
    return wrk.format("POST", "/console/sign-in", form, "email=" .. email .. "&password=" .. password)
  elseif mode == "guess" then
    counter = counter + 1
    local emails = {}
    for email in arg:gmatch("[^,]+") do table.insert(emails, email) end
    local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
    local email = emails[1 + (counter + index) % #emails]
    return wrk.format("POST", "/console/sign-in", form,
      "email=" .. email .. string.format("&password=guess%08x", math.random(0, 2^31)))
  elseif mode == "deletefile" then
    if not ids then
      local path, start, n, t = arg:match("([^:]+):(%d+):(%d+):(%d+)")
      ids, next_line, last, stride = {}, tonumber(start) + 1 + index, tonumber(start) + tonumber(n), tonumber(t)
      for line in io.lines(path) do table.insert(ids, line) end
    end
    local line = next_line
    next_line = next_line + stride
    if line > last then line = last end
    return wrk.format("DELETE", base .. "/" .. ids[line], headers)
  elseif mode == "delete" then
    counter = counter + 1
    local start, stride = arg:match("(%d+):(%d+)")
    local id = tonumber(start) + index * tonumber(stride) + counter
    return wrk.format("DELETE", string.format("%s/cus_%032x", base, id), headers)
  else
    return wrk.format("GET", arg, headers)
  end
end
