/** The package version, recorded in traces' metadata (kept equal to package.json by a test). */
export const VERSION = "0.2.0";
