// Writes flags/schema.json from src/config/flags-schema.ts (the one the validator uses).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FLAGS_SCHEMA } from '../src/config/flags-schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../flags/schema.json', import.meta.url));
export const schemaText = (): string => `${JSON.stringify(FLAGS_SCHEMA, null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
