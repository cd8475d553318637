// Module resolution hook (registered by scripts/uvu-driver.mjs): a bare
// `import ... from 'uvu'` outside node_modules loads uvu-census.mjs instead,
// which is uvu with counting. 'uvu/assert' and the rest are untouched.
const census = new URL('./uvu-census.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'uvu' && !(context.parentURL ?? '').includes('/node_modules/')) {
    return { url: census, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
