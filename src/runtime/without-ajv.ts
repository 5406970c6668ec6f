/**
 * Stands in for `ajv` and `ajv-formats` in the Worker bundle (wrangler.toml `[alias]`). Ajv compiles schemas into
 * code with `new Function`, which Workers refuse; the SDK imports it as its default validator, but the gateway always
 * hands the SDK the runtime's validator (`@cfworker/json-schema` on Workers), so this is never constructed. Leaving
 * Ajv out keeps code generation unreachable and the bundle smaller.
 */
export default class WithoutAjv {
  constructor() {
    throw new Error('Ajv is not available on Workers: give the SDK a jsonSchemaValidator (CfWorkerJsonSchemaValidator)');
  }
}
