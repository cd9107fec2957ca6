import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEnum, IsInt, Max, Min } from 'class-validator';

import { PG_INT_MAX, toPositiveId } from '../common/ids';
import { Role } from './user.entity';
import type { UserRow } from './users.repository';

export class UserDto {
  @ApiProperty({ example: 12 })
  id: number;

  @ApiProperty({ example: 'jane@example.com' })
  email: string;

  @ApiProperty({ example: 'jane' })
  nickname: string;

  @ApiProperty({ enum: Role, example: Role.User })
  role: Role;

  @ApiProperty({ example: '2026-11-24T10:00:00.000Z' })
  createdAt: string;

  static from(user: UserRow): UserDto {
    return {
      id: user.id,
      email: user.email,
      nickname: user.nickname,
      role: user.role,
      createdAt: new Date(user.createdAt).toISOString(),
    };
  }
}

/** A positive 32-bit id in the path; anything else ('abc', '1.5', '-1', '0x10') is a 400. */

export class UserIdParam {
  @ApiProperty({ example: 12 })
  @Transform(toPositiveId)
  @IsInt({ message: 'userId must be a positive integer' })
  @Min(1)
  @Max(PG_INT_MAX)
  userId: number;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: Role, example: Role.Host })
  @IsEnum(Role)
  role: Role;
}
