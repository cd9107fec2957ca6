--[[ Admit a batch of booking requests (those that reached this process in one turn of its
  event loop), one after another and atomically each: rate limit (a replay counts too: sending
  one key again and again is no way around it), replayed idempotency key? sale window, quantity, per-user limit, stock. An admitted request takes its stock, counts
  the user's quantity, is appended to the booking log and recorded as PENDING, all in this one
  script, so there is no moment where stock is taken and nothing says why.
  One script for the batch: each request costs only its own commands (a script call, its
  reply and its replication are paid once), a goods hash is read once per batch and its stock
  written once, and the rate limit is one counter per user in one hash per second, not a key
  per user to create, expire and delete.
  KEYS[1] goods key prefix (…bk:g:)   KEYS[2] booking record prefix (…bk:r:)
  KEYS[3] idempotency key prefix (…bk:idem:)   KEYS[4] booking log stream
  KEYS[5] this second's rate-limit hash (…bk:w:<epoch second>)
  ARGV[1] nowMs   ARGV[2] idempotency TTL s   ARGV[3] rate limit per second
  ARGV[4] rate hash TTL ms   ARGV[5] PENDING record TTL s
  ARGV[6] deadline, ms since the epoch by Redis's own clock ('0': none): the caller stops
    waiting for this reply then and answers 503, so a call that runs later (Redis frozen, then
    woken, with the call in its socket all the while) must admit nothing
  ARGV[7..] groups of 8: goodsId, userId, quantity, bookingId, request fingerprint ('' = no
  idempotency key), idempotency key suffix (userId:hash), idempotency key as sent, W3C
  traceparent of the admitting request ('' = tracing off: the entry then has no tp field)
  Output: groups of 3: code, bookingId or '', detail
    1 admitted (detail: stock left) | 0 replay (the first request's id) | -1 goods not loaded
    -2 sale not open | -3 sale closed | -4 over the per-user limit (detail: max) | -5 sold out
    -6 rate limited (detail: ms to wait) | -7 key reused with another request
    -8 quantity above maxPerUser (detail: max) | -9 past the deadline (nothing done)
  Records are strings 'PENDING|goodsId|userId|quantity|', deleted when settled (settle-bookings-5.lua).
  Stock is written once, at the end. Redis refuses a script for lack of memory only before its
  first write, so the one way to stop half-way is a command error (a key of the wrong type:
  corrupted data); the requests admitted before it would then not have taken their stock in Redis, and
  PostgreSQL's guarded write still refuses an oversell (npm run reconcile repairs the count). ]]
local rcall = redis.call
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[3])
local deadline = tonumber(ARGV[6])
if deadline > 0 then
  local t = rcall('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > deadline then
    local late = {}
    for _ = 7, #ARGV, 8 do
      late[#late + 1] = -9
      late[#late + 1] = ''
      late[#late + 1] = ''
    end
    return late
  end
end
local goods = {} -- goodsId → { left, max, startsAt, endsAt, exp, taken } or false (not loaded)
local out = {}
local counted = false

local function admit(g, u, qty, id, fingerprint, idemSuffix, idemKey, tp)
  local hits = rcall('HINCRBY', KEYS[5], u, 1)
  counted = true
  if hits > limit then return -6, '', 1000 - now % 1000 end
  if fingerprint ~= '' then
    local seen = rcall('GET', KEYS[3] .. idemSuffix)
    if seen then
      local sep = string.find(seen, '|', 1, true)
      local first = string.sub(seen, 1, sep - 1)
      if string.sub(seen, sep + 1) ~= fingerprint then return -7, first, '' end
      return 0, first, ''
    end
  end
  local state = goods[g]
  if state == nil then
    local h = rcall('HMGET', KEYS[1] .. g, 'left', 'max', 'start', 'end', 'exp')
    state = h[1] and { left = tonumber(h[1]), max = tonumber(h[2]), startsAt = tonumber(h[3]),
      endsAt = tonumber(h[4]), exp = h[5], taken = 0 } or false
    goods[g] = state
  end
  if not state then return -1, '', '' end
  if state.startsAt > 0 and now < state.startsAt then return -2, '', '' end
  if state.endsAt > 0 and now >= state.endsAt then return -3, '', '' end
  if qty > state.max then return -8, '', state.max end
  local usersKey = KEYS[1] .. g .. ':u'
  local held = tonumber(rcall('HGET', usersKey, u) or '0')
  if held + qty > state.max then return -4, '', state.max end
  if state.left < qty then return -5, '', '' end

  state.left = state.left - qty
  state.taken = state.taken + qty
  rcall('HINCRBY', usersKey, u, qty)
  if tp == '' then
    rcall('XADD', KEYS[4], '*', 'id', id, 'g', g, 'u', u, 'q', qty, 'k', idemKey, 't', now)
  else
    rcall('XADD', KEYS[4], '*', 'id', id, 'g', g, 'u', u, 'q', qty, 'k', idemKey, 't', now, 'tp', tp)
  end
  rcall('SET', KEYS[2] .. id, 'PENDING|' .. g .. '|' .. u .. '|' .. qty .. '|', 'EX', ARGV[5])
  if fingerprint ~= '' then
    rcall('SET', KEYS[3] .. idemSuffix, id .. '|' .. fingerprint, 'EX', ARGV[2])
  end
  return 1, id, state.left
end

for i = 7, #ARGV, 8 do
  local code, id, detail = admit(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3],
    ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7])
  out[#out + 1] = code
  out[#out + 1] = id
  out[#out + 1] = detail
end
for g, state in pairs(goods) do
  if state and state.taken > 0 then
    rcall('HINCRBY', KEYS[1] .. g, 'left', -state.taken)
    -- The user hash may have been created just now: it goes when the goods hash does.
    if state.exp and state.exp ~= '0' then rcall('PEXPIREAT', KEYS[1] .. g .. ':u', state.exp) end
  end
end
-- The first hit of a second creates its hash; it goes a window after that second ends.
if counted then rcall('PEXPIRE', KEYS[5], ARGV[4], 'NX') end
return out
