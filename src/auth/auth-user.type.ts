import type { Role } from '../users/user.entity';

/** Who is calling, from the verified token only. */
export interface AuthUser {
  id: number;
  role: Role;
}
