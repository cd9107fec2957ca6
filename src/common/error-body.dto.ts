import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { ErrorCode } from './error-codes';

export class ErrorBodyDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, example: ErrorCode.ValidationFailed })
  code: string;

  @ApiProperty({ example: 'The request is not valid.' })
  message: string;

  @ApiPropertyOptional({ type: [String], example: ['email must be an email address'] })
  details?: string[];
}
