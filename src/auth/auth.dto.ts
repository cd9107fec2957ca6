import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateBy,
  ValidationArguments,
} from 'class-validator';

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

export const PASSWORD_RULE =
  'at least 8 characters with an upper-case letter, a lower-case letter, a digit and a symbol';

export class SignupDto {
  @ApiProperty({ example: 'jane@example.com', maxLength: 254 })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email: string;

  @ApiProperty({ example: 'Sup3r$ecret', minLength: 8, maxLength: 128, description: PASSWORD_RULE })
  @IsString()
  @MinLength(8, { message: `password must be ${PASSWORD_RULE}` })
  @MaxLength(128)
  @Matches(/^(?=.*\p{Lu})(?=.*\p{Ll})(?=.*\p{Nd})(?=.*[^\p{L}\p{Nd}\s]).*$/su, {
    message: `password must be ${PASSWORD_RULE}`,
  })
  password: string;

  @ApiProperty({ example: 'Sup3r$ecret', description: 'must equal password' })
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

  @ApiProperty({ example: 'Sup3r$ecret' })
  @IsString()
  @MaxLength(128)
  password: string;
}

export class TokenDto {
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…' })
  accessToken: string;
}
