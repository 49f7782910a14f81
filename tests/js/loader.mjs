// Resolve the extensionless relative imports of the openDAW packages' compiled ESM.
export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); }
  catch (err) {
    if (err.code === "ERR_MODULE_NOT_FOUND" && (specifier.startsWith(".") || specifier.startsWith("/"))) {
      for (const tail of [".js", "/index.js"]) {
        try { return await next(specifier + tail, context); } catch {}
      }
    }
    throw err;
  }
}
