/**
 * A numeric benchmark option from `--name=value` on the command line, else `BENCH_NAME` in
 * the environment, else `def`. Throws naming the option when it is not a non-negative number.
 */
export function opt(name: string, def: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = arg ? arg.split('=')[1] : process.env[`BENCH_${name.toUpperCase()}`];
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`bad --${name}: ${v}`);
  return n;
}
