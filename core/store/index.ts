/** The store: the interface, plus every built-in driver registered under its URL scheme. */
import './drivers/memory-driver.ts';
import './drivers/lowdb-driver.ts';

export * from './store.ts';
export { MemoryStore, type MemoryStoreOptions } from './drivers/memory-driver.ts';
export { LowdbStore, openLowdbStore, type LowdbStoreOptions } from './drivers/lowdb-driver.ts';
