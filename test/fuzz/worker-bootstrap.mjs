// Node 20 does not run a worker's .ts entry through the parent's tsx loader
// (neither through --import in execArgv): register tsx here, then load it.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
