import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type Redis from 'ioredis';

import { projectRoot } from '../config/project-root';

/**
 * Loads every `lua/<verb-noun>-<numberOfKeys>.lua` as an ioredis command named in camelCase
 * (`hit-window-1.lua` → `redis.hitWindow(key, ...args)`); ioredis sends EVALSHA and falls
 * back to EVAL after a script flush or a Redis restart.
 */
export function defineScripts(redis: Redis): void {
  const dir = join(projectRoot(), 'lua');
  for (const file of readdirSync(dir)) {
    const match = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
    if (!match) {
      continue;
    }
    const name = match[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    redis.defineCommand(name, {
      numberOfKeys: Number(match[2]),
      lua: readFileSync(join(dir, file), 'utf8'),
    });
  }
}

/** The typed surface of the scripts in lua/. */
export interface ScriptCommands {
  hitWindow(key: string, windowMs: number, limit: number): Promise<[number, number, number]>;
  peekWindow(key: string): Promise<[number, number]>;
  getCached(
    generationKey: string,
    positionKey: string,
    suffix: string,
  ): Promise<[string, string | null, string | null]>;
  bumpGeneration(generationKey: string, positionKey: string, position: string): Promise<number>;
  raisePosition(
    generationKey: string,
    positionKey: string,
    generation: string,
    position: string,
  ): Promise<number>;
  admitBookings(...keysAndArgs: (string | number)[]): Promise<(string | number)[]>;
  loadGoods(...keysAndArgs: (string | number)[]): Promise<number>;
  updateGoods(...keysAndArgs: (string | number)[]): Promise<number>;
  settleBookings(...keysAndArgs: (string | number)[]): Promise<number>;
  ensureGroup(stream: string, group: string): Promise<number>;
  releaseBooking(...keysAndArgs: (string | number)[]): Promise<number>;
  retryDeadLetter(...keysAndArgs: (string | number)[]): Promise<string | number>;
}

export type ScriptedRedis = Redis & ScriptCommands;
