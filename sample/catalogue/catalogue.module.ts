import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { CatalogueController } from './catalogue.controller';

@Module({ imports: [InventoryModule], controllers: [CatalogueController] })
export class CatalogueModule {}
