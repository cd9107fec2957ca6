import { Injectable } from '@nestjs/common';

import { Sql } from '../database/sql';
import { Role, UserEntity } from './user.entity';

export interface NewUser {
  email: string;
  nickname: string;
  passwordHash: string;
  role?: Role;
}

export type UserRow = Omit<UserEntity, 'passwordHash'>;

const USER_COLUMNS = `id, email, nickname, role, created_at AS "createdAt", updated_at AS "updatedAt"`;

@Injectable()
export class UsersRepository {
  constructor(private readonly sql: Sql) {}

  getById(id: number): Promise<UserRow | undefined> {
    return this.sql.one<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  }

  async getRole(id: number): Promise<Role | undefined> {
    return (await this.sql.one<{ role: Role }>(`SELECT role FROM users WHERE id = $1`, [id]))?.role;
  }

  /** With the hash, for the login check only. */
  getCredentialsByEmail(
    email: string,
  ): Promise<{ id: number; role: Role; passwordHash: string } | undefined> {
    return this.sql.one(
      `SELECT id, role, password_hash AS "passwordHash" FROM users WHERE email = $1`,
      [email],
    );
  }

  /** With the hash, for checking the current password before a change. */
  getCredentialsById(id: number): Promise<(UserRow & { passwordHash: string }) | undefined> {
    return this.sql.one(
      `SELECT ${USER_COLUMNS}, password_hash AS "passwordHash" FROM users WHERE id = $1`,
      [id],
    );
  }

  async setPasswordHash(id: number, passwordHash: string): Promise<void> {
    await this.sql.rows(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [
      id,
      passwordHash,
    ]);
  }

  async create(user: NewUser): Promise<UserRow> {
    const row = await this.sql.one<UserRow>(
      `INSERT INTO users (email, nickname, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING ${USER_COLUMNS}`,
      [user.email, user.nickname, user.passwordHash, user.role ?? Role.User],
    );
    return row!;
  }

  setRole(id: number, role: Role): Promise<UserRow | undefined> {
    return this.sql.one<UserRow>(
      `UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, role],
    );
  }

  /** Ensure the configured admin exists with this password (created or updated). */
  async upsertAdmin(email: string, nickname: string, passwordHash: string): Promise<UserRow> {
    const row = await this.sql.one<UserRow>(
      `INSERT INTO users (email, nickname, password_hash, role) VALUES ($1, $2, $3, 'admin')
       ON CONFLICT (email) DO UPDATE
         SET password_hash = EXCLUDED.password_hash, role = 'admin', updated_at = now()
       RETURNING ${USER_COLUMNS}`,
      [email, nickname, passwordHash],
    );
    return row!;
  }

  async nicknameTaken(nickname: string): Promise<boolean> {
    return (
      (await this.sql.one(`SELECT 1 FROM users WHERE nickname = $1`, [nickname])) !== undefined
    );
  }
}
