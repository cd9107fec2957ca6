import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { ErrorCode, FieldError } from './error-codes';

export class FieldErrorDto implements FieldError {
  @ApiProperty({ example: 'password', description: 'the field, with a dotted path when nested' })
  field: string;

  @ApiProperty({
    example: 'PASSWORD_TOO_COMMON',
    description:
      "stable: the rule's code (PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG, PASSWORD_TOO_COMMON, PASSWORD_TOO_PREDICTABLE, PASSWORD_CONTAINS_IDENTITY), else the validator's name in upper snake case (IS_EMAIL, MAX_LENGTH, UNKNOWN_FIELD, …)",
  })
  code: string;

  @ApiProperty({ example: 'password is one of the most common passwords' })
  message: string;
}

export class ErrorBodyDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, example: ErrorCode.ValidationFailed })
  code: string;

  @ApiProperty({ example: 'The request is not valid.' })
  message: string;

  @ApiPropertyOptional({ type: [String], example: ['email must be an email address'] })
  details?: string[];

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: 'VALIDATION_FAILED: each field problem with its own code',
  })
  fields?: FieldErrorDto[];
}
