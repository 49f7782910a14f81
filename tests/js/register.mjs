// Lets Node load the openDAW packages' compiled ESM, whose relative imports have no ".js".
import { register } from "node:module";
register("./loader.mjs", import.meta.url);
