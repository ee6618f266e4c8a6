/** `node --import <this file> dist/src/main.js`: installs resolve-hook.ts (see there why). */
import { register } from 'node:module';

register('./resolve-hook.js', import.meta.url);
