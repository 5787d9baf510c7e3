// The flow batch lives in server/src/flow/flow-batch.ts and the address codec in
// shared/src/address.ts. This path is kept only for decoder.ts, detect/ and server.ts, which
// other changes own today; new code imports from those two places.
export * from '../flow/flow-batch.js';
export {
  addrFromString,
  addrToString,
  isV4,
  setV4,
  setV6,
  v4FromString,
  v4ToString,
  v6GroupsToString,
} from '@downstream/shared';
