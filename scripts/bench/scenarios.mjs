// What each `npm run bench` scenario sends, and what it keeps of the answers. Runs inside the
// load workers (./load.mjs): `makeScenario(spec, { worker, workers })` gives an object with
//   next(i)                  the worker's i-th request: { method, path, headers, body, kind }
//   answer(req, status, body) the answer's code for the tally ('' when the status says it all)
//   collected()              what the audit needs afterwards (accepted booking ids, and
//                            [Idempotency-Key, booking id] of every accepted keyed request)
// Request g (global index i * workers + worker) belongs to user g % users, so the workers
// together walk the users in order, as one generator would.

const json = (body) => {
  try {
    return JSON.parse(body);
  } catch {
    return {}; // not JSON (a proxy's error page, say): counted by status alone
  }
};

/**
 * The rush's request plan, shared with the main thread (which derives the expected outcome
 * from it). In every ten requests, the 10th retries the 9th with the same Idempotency-Key (a
 * client that lost the answer) and the 8th is a second press by the 7th's user (no key).
 */
export function rushPlan(g, users) {
  const slot = g % 10;
  if (slot === 9) return { user: (g - 1) % users, key: `k${g - 1}` };
  if (slot === 7) return { user: (g - 1) % users, key: undefined };
  if (slot === 8) return { user: g % users, key: `k${g}` };
  return { user: g % users, key: undefined };
}

/** Accepted bookings (201/202) and their ids, for the audit. */
function bookingAnswers() {
  const ids = [];
  return {
    ids,
    answer(status, body) {
      const parsed = json(body);
      if ((status === 201 || status === 202) && parsed.id) {
        ids.push(parsed.id);
        return { code: parsed.status ?? '', id: parsed.id };
      }
      return { code: parsed.code ?? '' };
    },
  };
}

function hello() {
  return {
    next: () => ({ method: 'GET', path: '/', kind: 'hello' }),
    answer: () => '',
    collected: () => ({}),
  };
}

function rush(spec, { worker, workers }) {
  const answers = bookingAnswers();
  const keyed = [];
  const path = `/api/goods/${spec.goodsIds[0]}/bookings`;
  return {
    next(i) {
      const g = i * workers + worker;
      const { user, key } = rushPlan(g, spec.tokens.length);
      let headers = `authorization: Bearer ${spec.tokens[user]}\r\n`;
      // Keys are per goods: the warm-up's keys must not meet the measured run's.
      if (key) headers += `idempotency-key: ${spec.goodsIds[0]}-${key}\r\n`;
      return { method: 'POST', path, headers, body: '{}', kind: 'book', key };
    },
    answer: (req, status, body) => {
      const { code, id } = answers.answer(status, body);
      if (req.key && id) keyed.push([req.key, id]);
      return code;
    },
    collected: () => ({ ids: answers.ids, keyed }),
  };
}

/**
 * Steady bookings on many goods with stock to spare: the k-th request of user u books goods
 * (k + u) % goods, so nobody meets the per-user limit and every request should be confirmed.
 */
function sustained(spec, { worker, workers }) {
  const answers = bookingAnswers();
  const users = spec.tokens.length;
  const paths = spec.goodsIds.map((id) => `/api/goods/${id}/bookings`);
  return {
    next(i) {
      const g = i * workers + worker;
      const user = g % users;
      const goods = (Math.floor(g / users) + user) % paths.length;
      return {
        method: 'POST',
        path: paths[goods],
        headers: `authorization: Bearer ${spec.tokens[user]}\r\n`,
        body: '{}',
        kind: 'book',
      };
    },
    answer: (_req, status, body) => answers.answer(status, body).code,
    collected: () => ({ ids: answers.ids }),
  };
}

/** Browsing: nine goods detail reads to one list page, anonymous, as visitors do. */
function read(spec, { worker, workers }) {
  const ids = spec.goodsIds;
  return {
    next(i) {
      const g = i * workers + worker;
      if (g % 10 === 9) return { method: 'GET', path: '/api/goods?page=1&limit=20', kind: 'list' };
      return { method: 'GET', path: `/api/goods/${ids[g % ids.length]}`, kind: 'detail' };
    },
    answer: (_req, status, body) => (status >= 400 ? (json(body).code ?? '') : ''),
    collected: () => ({}),
  };
}

/**
 * Everything at once on one goods that sells out: in every ten requests four reads (detail),
 * three bookings, two waitlist joins and one cancel of the oldest booking this worker saw
 * accepted (a booking instead when it holds none). Cancels free seats for the waitlist.
 */
function mixed(spec, { worker, workers }) {
  const answers = bookingAnswers();
  const goodsId = spec.goodsIds[0];
  const users = spec.tokens.length;
  const held = []; // [user, bookingId] this worker saw accepted, oldest first
  let bookings = 0;
  let joins = 0;
  const auth = (user) => `authorization: Bearer ${spec.tokens[user]}\r\n`;
  const book = () => {
    const user = (bookings++ * workers + worker) % users;
    return {
      method: 'POST',
      path: `/api/goods/${goodsId}/bookings`,
      headers: auth(user),
      body: '{}',
      kind: 'book',
      user,
    };
  };
  return {
    next(i) {
      const g = i * workers + worker;
      const slot = g % 10;
      if (slot < 4) return { method: 'GET', path: `/api/goods/${goodsId}`, kind: 'detail' };
      if (slot < 7) return book();
      if (slot < 9) {
        // Waitlist joins walk the users from the other end of the pool.
        const user = users - 1 - ((joins++ * workers + worker) % users);
        return {
          method: 'POST',
          path: `/api/goods/${goodsId}/waitlist`,
          headers: auth(user),
          kind: 'waitlist',
        };
      }
      const mine = held.shift();
      if (!mine) return book();
      return {
        method: 'DELETE',
        path: `/api/bookings/${mine[1]}`,
        headers: auth(mine[0]),
        kind: 'cancel',
      };
    },
    answer(req, status, body) {
      if (req.kind === 'book') {
        const { code, id } = answers.answer(status, body);
        if (id) held.push([req.user, id]); // cancelled later, when it is written
        return code;
      }
      return status >= 400 ? (json(body).code ?? '') : '';
    },
    collected: () => ({ ids: answers.ids }),
  };
}

const scenarios = { hello, rush, sustained, read, mixed };

export function makeScenario(spec, where) {
  const make = scenarios[spec.name];
  if (!make) throw new Error(`unknown scenario ${spec.name}`);
  return make(spec, where);
}
