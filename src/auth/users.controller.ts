import { Body, Controller, HttpCode, Param, Patch } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Auth, AuthUser, Authenticated } from './auth-user';
import { ErrorBodyDto } from '../common/error-body.dto';
import { ChangeRoleDto, UserDto, UserIdParam } from '../users/user.dto';
import { Role } from '../users/user.entity';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Patch(':userId/role')
  @HttpCode(200)
  @Authenticated(Role.Admin)
  @ApiOperation({ summary: "Change a user's role (admin only)" })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto })
  changeRole(
    @Auth() who: AuthUser,
    @Param() { userId }: UserIdParam,
    @Body() dto: ChangeRoleDto,
  ): Promise<UserDto> {
    return this.users.changeRole(who, userId, dto);
  }
}
