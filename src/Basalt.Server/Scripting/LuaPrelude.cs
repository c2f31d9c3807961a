namespace Basalt.Server.Scripting;

/// <summary>
/// The Lua side of the sandbox, run once per Lua state (chunk name "=basalt", which the error handler skips).
/// It receives the native callbacks and returns the internal hooks the engine keeps references to.
/// Globals: _G stays empty and read-only; lookups go through its metatable to the API table (or, while a function
/// library loads, to the load-time API), whose own metatable reports nonexistent globals as Redis does.
/// </summary>
internal static class LuaPrelude
{
    public const string Code = """
local C, isFunctionEngine = ...
local G = _G
local type, tostring, error, rawget, rawset, rawequal, next, select, tonumber =
      type, tostring, error, rawget, rawset, rawequal, next, select, tonumber
local setmetatable, getmetatable, pcall, xpcall, load, ipairs, pairs = setmetatable, getmetatable, pcall, xpcall, load, ipairs, pairs
local floor, math_type, fmt, sub = math.floor, math.type, string.format, string.sub
local getinfo, sethook = debug.getinfo, debug.sethook
local ccall, cpcall, busycheck, crand = C.call, C.pcall, C.busycheck, C.rand

local readonly = 'Attempt to modify a readonly table'
local protected = setmetatable({}, {__mode = 'k'})
local function ro_newindex() error(readonly, 2) end

-- A read-only view of t: writes fail, pairs and # see t.
local function protect(t)
  local p = setmetatable({}, {__index = t, __newindex = ro_newindex,
    __pairs = function() return next, t, nil end, __len = function() return #t end})
  protected[p] = true
  return p
end

-- Lua 5.1 compatibility that Redis scripts rely on.
local tbl = table
tbl.getn = function(t) return #t end
tbl.maxn = function(t) local m = 0 for k in next, t do if math_type(k) and k > m then m = k end end return m end
tbl.foreach = function(t, f) for k, v in pairs(t) do local r = f(k, v) if r ~= nil then return r end end end
tbl.foreachi = function(t, f) for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end end
local m = math
m.pow = function(x, y) return x ^ y end
m.mod = m.fmod
m.ldexp = function(x, e) return x * 2.0 ^ e end
m.log10 = function(x) return m.log(x, 10) end
m.atan2 = m.atan
m.cosh = function(x) return (m.exp(x) + m.exp(-x)) / 2 end
m.sinh = function(x) return (m.exp(x) - m.exp(-x)) / 2 end
m.tanh = function(x) local a, b = m.exp(x), m.exp(-x) return (a - b) / (a + b) end
m.frexp = function(x)
  if x == 0 or x ~= x or x == m.huge or x == -m.huge then return x, 0 end
  local e = floor(m.log(m.abs(x), 2)) + 1
  local f = x / 2.0 ^ e
  if m.abs(f) >= 1 then f = f / 2; e = e + 1 elseif m.abs(f) < 0.5 then f = f * 2; e = e - 1 end
  return f, e
end
string.gfind = string.gmatch

-- Redis's deterministic PRNG (lrand48 seeded with 0), shared by every script of the server.
local function checkint(v, n)
  local x = tonumber(v)
  if x == nil then error(fmt("bad argument #%d to 'random' (number expected, got %s)", n, v == nil and 'no value' or type(v)), 3) end
  if x >= 0 then return floor(x) end
  return -floor(-x)
end
m.random = function(...)
  local r = crand()
  local n = select('#', ...)
  if n == 0 then return r end
  if n == 1 then
    local u = checkint((...), 1)
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  end
  if n == 2 then
    local a, b = ...
    local l, u = checkint(a, 1), checkint(b, 2)
    if l > u then error("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  error('wrong number of arguments', 2)
end
local csrand = C.srand
m.randomseed = function(s) csrand(checkint(s, 1)) end

-- Floats print as Lua 5.1 printed them (%.14g: 5 not 5.0).
local rawtostring = tostring
local function tostring51(v)
  if math_type(v) == 'float' then return fmt('%.14g', v) end
  return rawtostring(v)
end

-- pcall/xpcall hand scripts the message of Redis error tables, as Redis 7.0 does.
local function unwrap(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'table' then local s = rawget(e, 'err') if type(s) == 'string' then e = s end end
  return false, e
end
local function pcall51(f, ...) return unwrap(pcall(f, ...)) end
local function xpcall51(f, h, ...)
  return xpcall(f, function(e)
    if type(e) == 'table' then local s = rawget(e, 'err') if type(s) == 'string' then e = s end end
    return h(e)
  end, ...)
end

local function rawset51(t, k, v)
  if protected[t] then error(readonly, 0) end
  return rawset(t, k, v)
end
local function setmetatable51(t, mt)
  if protected[t] then error(readonly, 2) end
  return setmetatable(t, mt)
end

local function loadstring51(s, name) return load(s, name or s, 't') end

-- The redis API.
local redis = {}
redis.call = function(...)
  local r, raise = ccall(...)
  if raise then error(r, 0) end
  return r
end
redis.pcall = cpcall
local csha = C.sha1hex
redis.sha1hex = function(...)
  if select('#', ...) ~= 1 then error({err = 'ERR wrong number of arguments'}) end
  local s = ...
  if type(s) ~= 'string' and type(s) ~= 'number' then s = '' end
  return csha(s)
end
local function badargs() return {err = 'ERR wrong number or type of arguments'} end
redis.error_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return badargs() end
  if sub(s, 1, 1) == '-' then s = sub(s, 2) else s = 'ERR ' .. s end
  return {err = s}
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return badargs() end
  return {ok = s}
end
local clog = C.log
local function log(...)
  local n = select('#', ...)
  if n < 2 then error({err = 'ERR redis.log() requires two arguments or more.'}) end
  local level = ...
  if type(level) ~= 'number' then error({err = 'ERR First argument must be a number (log level).'}) end
  if level < 0 or level > 3 then error({err = 'ERR Invalid debug level.'}) end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    local t = type(v)
    if t == 'string' then parts[#parts + 1] = v elseif t == 'number' then parts[#parts + 1] = tostring51(v) end
  end
  clog(floor(level), tbl.concat(parts, ' '))
end
redis.log = log
local csetresp = C.setresp
redis.setresp = function(...)
  if select('#', ...) ~= 1 then error({err = 'ERR redis.setresp() requires one argument.'}) end
  local v = tonumber((...))
  if v ~= 2 and v ~= 3 then error({err = 'ERR RESP version must be 2 or 3.'}) end
  csetresp(floor(v))
end
local csetrepl = C.setrepl
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then error({err = 'ERR redis.set_repl() requires two arguments.'}) end
  local v = tonumber((...)) or -1
  if v < 0 or v > 3 or floor(v) ~= v then
    error({err = 'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.'})
  end
  csetrepl(floor(v))
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = '7.0.15', 458767

-- The API visible to scripts.
local H = {
  assert = assert, collectgarbage = collectgarbage, error = error, getmetatable = getmetatable, ipairs = ipairs,
  load = load, loadstring = loadstring51, next = next, pairs = pairs, pcall = pcall51, rawequal = rawequal,
  rawget = rawget, rawset = rawset51, select = select, setmetatable = setmetatable51, tonumber = tonumber,
  tostring = tostring51, type = type, unpack = tbl.unpack, xpcall = xpcall51,
  gcinfo = function() return floor(collectgarbage('count')) end,
  _VERSION = _VERSION, _G = G,
}
for _, lib in ipairs({'string', 'table', 'math', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
  local t = rawget(G, lib)
  if type(t) == 'table' then H[lib] = protect(t) end
end
getmetatable('').__index = H.string
H.redis = protect(redis)

local function nonexistent(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring51(k) .. "'", 2)
end
setmetatable(H, {__index = nonexistent, __newindex = ro_newindex})

-- Function libraries: only a small API while the library code runs.
local loading = {}   -- the library being loaded: register_function sends here
local cregister = C.register
local function register_function(...)
  local n = select('#', ...)
  local name, cb, flags, desc
  if n == 1 then
    local t = ...
    if type(t) ~= 'table' then error({err = 'ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).'}) end
    for k, v in pairs(t) do
      if k == 'function_name' then
        if type(v) ~= 'string' and type(v) ~= 'number' then error({err = 'ERR function_name argument given to redis.register_function must be a string'}) end
        name = rawtostring(v)
      elseif k == 'callback' then
        if type(v) ~= 'function' then error({err = 'ERR callback argument given to redis.register_function must be a function'}) end
        cb = v
      elseif k == 'flags' then
        if type(v) ~= 'table' then error({err = 'ERR flags argument to redis.register_function must be a table representing function flags'}) end
        flags = v
      elseif k == 'description' then
        if type(v) ~= 'string' and type(v) ~= 'number' then error({err = 'ERR description argument given to redis.register_function must be a string'}) end
        desc = rawtostring(v)
      else
        error({err = 'ERR unknown argument given to redis.register_function'})
      end
    end
    if name == nil then error({err = 'ERR redis.register_function must get a function name argument'}) end
    if cb == nil then error({err = 'ERR redis.register_function must get a callback argument'}) end
  elseif n == 2 then
    name, cb = ...
    if type(name) == 'number' then name = rawtostring(name) end
    if type(name) ~= 'string' then error({err = 'ERR first argument to redis.register_function must be a string'}) end
    if type(cb) ~= 'function' then error({err = 'ERR second argument to redis.register_function must be a function'}) end
  else
    error({err = 'ERR wrong number of arguments to redis.register_function'})
  end
  local bits = 0
  if flags then
    for _, f in ipairs(flags) do
      if f == 'no-writes' then bits = bits | 1
      elseif f == 'allow-oom' then bits = bits | 2
      elseif f == 'allow-stale' then bits = bits | 4
      elseif f == 'no-cluster' then bits = bits | 8
      elseif f == 'allow-cross-slot-keys' then bits = bits | 16
      else error({err = 'ERR unknown flag given'}) end
    end
  end
  local e = cregister(name, cb, bits, desc)
  if e then error({err = e}) end
end
local loadredis = setmetatable({
  register_function = register_function, log = log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 458767,
}, {__index = nonexistent})
local L = setmetatable({redis = protect(loadredis)}, {__index = nonexistent, __newindex = ro_newindex})

-- _G itself: empty, read-only, reads through to H.
for k in next, G do rawset(G, k, nil) end
local gmt = {__index = H, __newindex = ro_newindex, __pairs = function() return next, H, nil end}
setmetatable(G, gmt)
protected[G] = true

-- Errors become {err=..., source=..., line=...} naming the user's frame (not C functions nor this chunk).
local function errh(e)
  local lvl = 2
  local i = getinfo(lvl, 'Sl')
  while i and (i.what == 'C' or i.source == '=basalt') do lvl = lvl + 1; i = getinfo(lvl, 'Sl') end
  if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring51(e)} end
  if i then rawset(e, 'source', i.source); rawset(e, 'line', i.currentline) end
  return e
end

-- Every 100000 instructions: lets the engine flag the script busy and kill it.
local killed = 'ERR Script killed by user with SCRIPT KILL...'
local hook
hook = function()
  if busycheck() then
    sethook(hook, 'l')
    error({err = killed})
  end
end
local function arm() sethook(hook, '', 100000) end
arm()

local internals = {
  errh = errh,
  arm = arm,
  setloading = function(on) gmt.__index = on and L or H end,
  api = H,
}
return internals
""";
}
