import { Global, Module } from '@nestjs/common';

import { ReadReplica } from './read-replica';
import { Sql } from './sql';

@Global()
@Module({ providers: [Sql, ReadReplica], exports: [Sql, ReadReplica] })
export class DatabaseModule {}
