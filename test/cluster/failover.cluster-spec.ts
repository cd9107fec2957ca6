import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { auditGoods, waitForLogDrained, waitForWritten } from '../../src/booking/audit';
import { insertGoods, insertHost } from '../../src/database/fixtures';
import { TEST_JWT_SECRET } from '../support/app';
import { eventually, TestCluster } from '../support/cluster';
import {
  acceptedIds,
  Answer,
  bulkUsers,
  fire,
  postBookingOrError,
  summarise,
} from '../support/load';

/** Target of the issue: bookings confirmed again within 15 s of losing the primary. */
const FAILOVER_TARGET_MS = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Timed extends Answer {
  sentAt: number;
  answeredAt: number;
}

const unavailable = TestCluster.unavailableSync();

describe(
  'the primary killed mid-rush: repmgr promotes, Pgpool-II follows, nothing CONFIRMED is lost',
  {
    skip: unavailable,
  },
  () => {
    let c: TestCluster;
    before(async () => {
      c = await TestCluster.up();
    });
    after(async () => {
      await c?.down();
    });

    it('fails over within the target, keeps every confirmed booking, and rejoins the old primary by itself', async () => {
      const seats = 3000;
      const [goodsId] = await insertGoods(c.db, await insertHost(c.db), { bookingLimit: seats });
      const users = await bulkUsers(c.db, 4000, TEST_JWT_SECRET);
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      let killedAt = 0;
      const killer = (async () => {
        await sleep(2000);
        killedAt = (await c.kill('postgres-1')).at;
      })();
      // One booking per user, each waiting for CONFIRMED (Prefer: wait=10), paced so that the
      // load lasts past the failover: 4,000 users at 40 in flight.
      const answers = await fire<Timed>(
        users.map((u, i) => async () => {
          const sentAt = Date.now();
          const answer = await postBookingOrError(url, u.token, {
            prefer: 'wait=10',
            'idempotency-key': `failover-${i}`,
          });
          const answeredAt = Date.now();
          await sleep(50);
          return { ...answer, sentAt, answeredAt };
        }),
        40,
      );
      await killer;
      const summary = summarise(answers);
      assert.ok(killedAt > 0);

      // No 500 and no 502 at any point: during the failover a booking waits (202 PENDING when its
      // wait ends first) or is refused with a code.
      const unexpected = answers.filter(
        (a) =>
          a.status === 0 || a.status === 500 || a.status === 502 || (a.status >= 500 && !a.code),
      );
      assert.deepEqual(unexpected, [], JSON.stringify(summary));

      // Flowing again: the first booking sent after the kill that was answered CONFIRMED.
      const confirmedAfter = answers
        .filter((a) => a.status === 201 && a.sentAt > killedAt)
        .sort((a, b) => a.answeredAt - b.answeredAt)[0];
      assert.ok(
        confirmedAfter,
        `a booking sent after the kill was confirmed (${JSON.stringify(summary)})`,
      );
      const failoverMs = confirmedAfter.answeredAt - killedAt;
      process.stderr.write(
        `cluster failover: bookings confirmed again ${failoverMs} ms after the primary was killed; ${JSON.stringify(summary)}\n`,
      );
      assert.ok(failoverMs <= FAILOVER_TARGET_MS, `failover took ${failoverMs} ms`);

      // A new primary, the other standby following it, both behind Pgpool-II.
      const primaries = await c.nodesIn('primary');
      assert.equal(primaries.length, 1, JSON.stringify(await c.status()));
      assert.notEqual(primaries[0].name, 'postgres-1');
      await eventually('the other standby follows the new primary', async () =>
        (await c.nodesIn('standby')).some((n) => n.name !== 'postgres-1' && n.healthy),
      );

      // Every booking answered CONFIRMED, before the kill or after, is on the new primary.
      const confirmed = answers.filter((a) => a.status === 201).map((a) => a.id!);
      const { rows } = await c.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM bookings WHERE id = ANY($1::uuid[]) AND status = 'CONFIRMED'`,
        [confirmed],
      );
      assert.equal(rows[0].n, confirmed.length, 'every CONFIRMED answer survived the failover');
      assert.ok(
        answers.some((a) => a.status === 201 && a.answeredAt < killedAt),
        'some bookings were confirmed before the kill',
      );

      // The writers resumed on the new primary: everything accepted is written and settled.
      const accepted = acceptedIds(answers);
      await waitForWritten(c.db, accepted, 60_000);
      await waitForLogDrained(c.redis, 30_000);
      const report = await auditGoods(c.db, c.redis, goodsId, accepted);
      assert.deepEqual(report.problems, [], JSON.stringify(summary));

      // Nobody runs `rejoin`: the supervisor rewinds the old primary and makes it a standby of
      // the new one, Pgpool-II attaches it, and cluster:status counts it.
      await eventually(
        'the supervisor rejoins postgres-1 as a standby',
        async () => {
          const part = await c.part('postgres-1');
          return part.role === 'standby' && part.healthy;
        },
        60_000,
      );
      assert.equal((await c.part('postgres-1')).restarts, 1);
      await eventually('Pgpool-II attaches it', async () => {
        const nodes = await c.db.query<{ port: string; status: string }>('SHOW pool_nodes');
        return nodes.rows.find((n) => n.port === String(c.ports.postgres[0]))?.status === 'up';
      });
      const [late] = await bulkUsers(c.db, 1, TEST_JWT_SECRET);
      const [fresh] = await insertGoods(c.db, await insertHost(c.db), { bookingLimit: 1 });
      const again = await postBookingOrError(`${c.url}/api/goods/${fresh}/bookings`, late.token, {
        prefer: 'wait=10',
      });
      assert.equal(again.status, 201, JSON.stringify(again));
    });

    it('the primary killed three times in a row under a rush: each failover within the target, nothing CONFIRMED lost, a clean audit', async () => {
      const host = await insertHost(c.db);
      const goodsIds = await insertGoods(c.db, host, { bookingLimit: 100_000 }, 6);
      const users = await bulkUsers(c.db, 3000, TEST_JWT_SECRET);
      // Paced bookings until told to stop: user i % N on goods ⌊i / N⌋, so nobody books one
      // goods twice and the load lasts as long as the kills do.
      const answers: (Timed & { goodsId: number })[] = [];
      let stop = false;
      let sent = 0;
      const lane = async () => {
        while (!stop) {
          const i = sent++;
          const goodsId = goodsIds[Math.floor(i / users.length)];
          assert.ok(goodsId !== undefined, 'enough goods for the load');
          const sentAt = Date.now();
          const answer = await postBookingOrError(
            `${c.url}/api/goods/${goodsId}/bookings`,
            users[i % users.length].token,
            { prefer: 'wait=10', 'idempotency-key': `again-${i}` },
          );
          answers.push({ ...answer, sentAt, answeredAt: Date.now(), goodsId });
          await sleep(50);
        }
      };
      const load = Promise.all(Array.from({ length: 20 }, lane));
      const failovers: number[] = [];
      try {
        for (let round = 1; round <= 3; round++) {
          const [primary] = await c.nodesIn('primary');
          const killedAt = (await c.kill(primary.name)).at;
          await eventually(
            `round ${round}: a booking sent after ${primary.name} was killed is confirmed`,
            () => Promise.resolve(answers.some((a) => a.status === 201 && a.sentAt > killedAt)),
            FAILOVER_TARGET_MS + 15_000,
          );
          const first = answers
            .filter((a) => a.status === 201 && a.sentAt > killedAt)
            .sort((a, b) => a.answeredAt - b.answeredAt)[0];
          failovers.push(first.answeredAt - killedAt);
          // The supervisor rejoins the killed node before the next kill: two standbys again.
          await eventually(
            `round ${round}: ${primary.name} rejoined, two standbys streaming`,
            async () => {
              const standbys = await c.nodesIn('standby');
              return standbys.length === 2 && standbys.every((n) => n.healthy);
            },
            90_000,
          );
        }
      } finally {
        stop = true;
        await load;
      }
      const summary = summarise(answers);
      process.stderr.write(
        `cluster: three failovers in a row, bookings confirmed again after ${failovers.join(', ')} ms; ${JSON.stringify(summary)}\n`,
      );
      for (const ms of failovers) {
        assert.ok(ms <= FAILOVER_TARGET_MS, `a failover took ${ms} ms (${failovers.join(', ')})`);
      }
      const unexpected = answers.filter(
        (a) =>
          a.status === 0 || a.status === 500 || a.status === 502 || (a.status >= 500 && !a.code),
      );
      assert.deepEqual(unexpected, [], JSON.stringify(summary));

      // Every CONFIRMED answer is in PostgreSQL; every accepted booking is written and settled.
      const confirmed = answers.filter((a) => a.status === 201).map((a) => a.id!);
      const { rows } = await c.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM bookings WHERE id = ANY($1::uuid[]) AND status = 'CONFIRMED'`,
        [confirmed],
      );
      assert.equal(rows[0].n, confirmed.length, 'every CONFIRMED answer survived three failovers');
      const accepted = acceptedIds(answers);
      await waitForWritten(c.db, accepted, 90_000);
      await waitForLogDrained(c.redis, 30_000);
      for (const goodsId of new Set(answers.map((a) => a.goodsId))) {
        const report = await auditGoods(
          c.db,
          c.redis,
          goodsId,
          acceptedIds(answers.filter((a) => a.goodsId === goodsId)),
        );
        assert.deepEqual(report.problems, [], `goods ${goodsId}: ${JSON.stringify(summary)}`);
      }
      const restarts = (await c.status())
        .filter((p) => p.name.startsWith('postgres-'))
        .reduce((sum, p) => sum + (p.restarts ?? 0), 0);
      assert.ok(restarts >= 4, `four rejoins by the supervisor, counted (${restarts})`);
    });
  },
);
