// The public barrel: exactly what API.md names.
export * from './core';
