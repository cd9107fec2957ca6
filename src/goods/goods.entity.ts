import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

import { UserEntity } from '../users/user.entity';

@Entity('goods')
export class GoodsEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text' })
  content: string;

  @Column({ type: 'integer' })
  price: number;

  @Column({ name: 'img_url', type: 'text' })
  imgUrl: string;

  @Column({ name: 'show_date', type: 'timestamptz' })
  showDate: Date;

  @Column({ name: 'booking_limit', type: 'integer' })
  bookingLimit: number;

  /** Written only by the booking path; the database keeps it within [0, bookingLimit]. */
  @Column({ name: 'booking_count', type: 'integer', default: 0 })
  bookingCount: number;

  @Column({ name: 'sale_starts_at', type: 'timestamptz', nullable: true })
  saleStartsAt: Date | null;

  @Column({ name: 'sale_ends_at', type: 'timestamptz', nullable: true })
  saleEndsAt: Date | null;

  @Column({ name: 'max_per_user', type: 'integer', default: 1 })
  maxPerUser: number;

  @Column({ name: 'host_id', type: 'integer' })
  hostId: number;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'host_id' })
  host?: UserEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
