--[[ Admit one booking request, atomically: replayed idempotency key? rate limit, sale
  window, quantity, per-user limit, stock. On success take the stock, count the user's
  quantity, append the request to the booking log and record the booking as PENDING, all in
  this one script, so there is no moment where stock is taken and nothing says why.
  KEYS[1] goods hash {left, max, start, end}   KEYS[2] goods user-quantity hash
  KEYS[3] idempotency key (ignored when ARGV[6] is '')   KEYS[4] booking log stream
  KEYS[5] booking hash   KEYS[6] user rate-limit window
  ARGV[1] goodsId  ARGV[2] userId  ARGV[3] quantity  ARGV[4] bookingId  ARGV[5] nowMs
  ARGV[6] request fingerprint ('' = no idempotency key)  ARGV[7] idempotency key
  ARGV[8] idempotency TTL s  ARGV[9] rate limit  ARGV[10] rate window ms
  ARGV[11] booking hash TTL s
  Output: { code, bookingId or '', detail }
    1 admitted | 0 replay (existing id, its status) | -1 goods not loaded | -2 sale not open
    -3 sale closed | -4 over the per-user limit (detail: max) | -5 sold out
    -6 rate limited (detail: ms to wait) | -7 key reused with another request
    -8 quantity above maxPerUser (detail: max) ]]
local rcall = redis.call
local goodsId, userId, qty, bookingId = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local now = tonumber(ARGV[5])

if ARGV[6] ~= '' then
  local seen = rcall('GET', KEYS[3])
  if seen then
    local sep = string.find(seen, '|', 1, true)
    local id, fingerprint = string.sub(seen, 1, sep - 1), string.sub(seen, sep + 1)
    if fingerprint ~= ARGV[6] then return { -7, id, '' } end
    return { 0, id, '' }
  end
end

local hits = rcall('INCR', KEYS[6])
if hits == 1 then rcall('PEXPIRE', KEYS[6], ARGV[10]) end
if hits > tonumber(ARGV[9]) then
  local ttl = rcall('PTTL', KEYS[6])
  if ttl < 0 then ttl = tonumber(ARGV[10]) end
  return { -6, '', ttl }
end

local goods = rcall('HMGET', KEYS[1], 'left', 'max', 'start', 'end')
if not goods[1] then return { -1, '', '' } end
local left, max, startsAt, endsAt = tonumber(goods[1]), tonumber(goods[2]), tonumber(goods[3]), tonumber(goods[4])
if startsAt > 0 and now < startsAt then return { -2, '', '' } end
if endsAt > 0 and now >= endsAt then return { -3, '', '' } end
if qty > max then return { -8, '', max } end
local held = tonumber(rcall('HGET', KEYS[2], userId) or '0')
if held + qty > max then return { -4, '', max } end
if left < qty then return { -5, '', '' } end

rcall('HINCRBY', KEYS[1], 'left', -qty)
rcall('HINCRBY', KEYS[2], userId, qty)
rcall('XADD', KEYS[4], '*', 'id', bookingId, 'g', goodsId, 'u', userId, 'q', qty, 'k', ARGV[7], 't', now)
rcall('HSET', KEYS[5], 'status', 'PENDING', 'g', goodsId, 'u', userId, 'q', qty, 't', now)
rcall('EXPIRE', KEYS[5], ARGV[11])
if ARGV[6] ~= '' then
  rcall('SET', KEYS[3], bookingId .. '|' .. ARGV[6], 'EX', ARGV[8])
end
return { 1, bookingId, left - qty }
