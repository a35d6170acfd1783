export { createAnalyzer, type Analyzer, type AnalyzerOptions } from './analyze.js';
export { normalise } from './normalise.js';
export { argvToShell } from './argv.js';
