import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidationArguments,
} from 'class-validator';

import { UserDto } from '../users/user.dto';

import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PasswordProblem,
  passwordProblem,
  passwordProblemMessages,
} from '../passwords/password-policy';

/** `confirm` must equal the named sibling property. */
function EqualsProperty(property: string) {
  return ValidateBy({
    name: 'equalsProperty',
    constraints: [property],
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        args !== undefined && value === (args.object as Record<string, unknown>)[property],
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'value'} must equal ${property}`,
    },
  });
}

export const PASSWORD_RULE = `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, any kind (a passphrase is welcome); not a common password, a repeat, a sequence or the service's name, and not containing the email or nickname (field codes ${Object.values(PasswordProblem).join(', ')})`;

/**
 * The password rules of password-policy.ts, one constraint per problem so that each failure
 * carries its own field code. `identity` names the sibling properties the password must not
 * contain.
 */
export function PasswordRules(identity: { email?: string; nickname?: string } = {}) {
  const identityOf = (args?: ValidationArguments) => {
    const object = (args?.object ?? {}) as Record<string, unknown>;
    return {
      email: identity.email && object[identity.email],
      nickname: identity.nickname && object[identity.nickname],
    };
  };
  return applyDecorators(
    IsString(),
    ...Object.values(PasswordProblem).map((problem) =>
      ValidateBy(
        {
          name: problem,
          validator: {
            validate: (value: unknown, args?: ValidationArguments) =>
              typeof value !== 'string' || passwordProblem(value, identityOf(args)) !== problem,
            defaultMessage: () => passwordProblemMessages[problem],
          },
        },
        { context: { code: problem } },
      ),
    ),
  );
}

export class SignupDto {
  @ApiProperty({ example: 'jane@example.com', maxLength: 254 })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    description: PASSWORD_RULE,
  })
  @PasswordRules({ email: 'email', nickname: 'nickname' })
  password: string;

  @ApiProperty({ example: 'correct horse battery staple', description: 'must equal password' })
  @IsString()
  @EqualsProperty('password')
  confirm: string;

  @ApiProperty({
    example: 'jane',
    minLength: 1,
    maxLength: 10,
    description: '1–10 characters, no spaces, no invisible or direction-changing characters',
  })
  // One spelling per name (NFC), so look-alike byte sequences cannot pose as another's.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.normalize('NFC') : value,
  )
  @IsString()
  // class-validator keeps one message per constraint kind: one pattern for both rules.
  @Matches(/^(?:(?![\p{Cc}\p{Cf}\u2028\u2029])\S){1,10}$/u, {
    message:
      'nickname must be 1 to 10 characters, without spaces or invisible or direction-changing characters (zero-width, bidi controls)',
  })
  nickname: string;
}

export class LoginDto {
  @ApiProperty({ example: 'jane@example.com' })
  @IsString()
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  // The rule counts characters; MaxLength counts UTF-16 units, two for some characters.
  @MaxLength(PASSWORD_MAX_LENGTH * 2)
  password: string;
}

export class ChangePasswordDto {
  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH * 2)
  currentPassword: string;

  @ApiProperty({
    example: 'a new and longer passphrase',
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    description: PASSWORD_RULE,
  })
  @PasswordRules()
  newPassword: string;
}

export class SessionDto {
  @ApiProperty({
    type: UserDto,
    nullable: true,
    description: 'null when nobody is logged in',
    example: {
      id: 12,
      email: 'jane@example.com',
      nickname: 'jane',
      role: 'user',
      createdAt: '2026-11-24T10:00:00.000Z',
    },
  })
  user: UserDto | null;
}

export class TokenDto {
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…' })
  accessToken: string;
}
