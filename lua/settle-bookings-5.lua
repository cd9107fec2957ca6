--[[ Take a written batch out of Redis's hands, in one step: each rejected booking gives back
  what its admission took, every settled booking's PENDING record goes (from then on
  PostgreSQL answers for it), entries the writer could not take are copied to the dead
  letters, and all the batch's entries leave the booking log (acknowledged and deleted). A
  booking is settled once: a redelivered outcome finds no PENDING record and changes nothing.
  KEYS[1] booking record prefix (…bk:r:)   KEYS[2] goods key prefix (…bk:g:)
  KEYS[3] booking log stream   KEYS[4] dead-letter stream
  KEYS[5] time of the last settled batch (ms; readiness reads it)
  ARGV[1] consumer group   ARGV[2] n log entry ids   ARGV[3] m dead letters
  ARGV[4..3+n] log entry ids
  then m groups of 4: log entry id, its fields as a JSON array, error, delivery count (each
  kept once: only while the entry is still in the log, so a repeated call adds none)
  then groups of 2: bookingId, status (CONFIRMED | REJECTED)
  Records are strings 'PENDING|goodsId|userId|quantity|' (admit-bookings-5.lua): the stock a
  rejection returns is the record's, what admission took, whatever the outcome says.
  Times are Redis's clock (TIME), as the log's entry ids are, so readiness compares like with like.
  Output: number of bookings settled now ]]
local rcall = redis.call
local time = rcall('TIME')
-- as a string: Lua 5.1 would print a number this size as 1.7e+12
local now = time[1] .. string.format('%03d', math.floor(tonumber(time[2]) / 1000))
local n = tonumber(ARGV[2])
local m = tonumber(ARGV[3])
local firstDead = 4 + n
local firstOutcome = firstDead + 4 * m

for i = firstDead, firstOutcome - 1, 4 do
  if rcall('XDEL', KEYS[3], ARGV[i]) == 1 then
    rcall('XADD', KEYS[4], '*', 'entry', ARGV[i], 'fields', ARGV[i + 1], 'error', ARGV[i + 2],
      'deliveries', ARGV[i + 3], 'at', now)
  end
end

local settled = 0
for i = firstOutcome, #ARGV, 2 do
  local key = KEYS[1] .. ARGV[i]
  local current = rcall('GET', key)
  local g, u, q = string.match(current or '', '^PENDING|(%d+)|(%d+)|(%d+)|')
  if g then
    -- Stock goes back only to a goods still loaded (a removed goods' keys stay removed), and
    -- only when this admission took it (no record: admitted elsewhere, or the record expired).
    if ARGV[i + 1] == 'REJECTED' and rcall('EXISTS', KEYS[2] .. g) == 1 then
      rcall('HINCRBY', KEYS[2] .. g, 'left', q)
      local held = rcall('HINCRBY', KEYS[2] .. g .. ':u', u, -tonumber(q))
      if held <= 0 then rcall('HDEL', KEYS[2] .. g .. ':u', u) end
    end
    rcall('DEL', key)
    settled = settled + 1
  end
end

-- in slices: unpack is limited by Lua's C stack (8,000), batches go up to 10,000
for from = 4, 3 + n, 1000 do
  local to = math.min(from + 999, 3 + n)
  rcall('XACK', KEYS[3], ARGV[1], unpack(ARGV, from, to))
  rcall('XDEL', KEYS[3], unpack(ARGV, from, to))
end
if n > 0 then rcall('SET', KEYS[5], now) end
return settled
