import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The portal is built into web/dist, which the Plinth server serves at `/`; `npm run build:web`
// runs this file from the repository root, so every path is resolved from this folder.
const webRoot = fileURLToPath(new URL('.', import.meta.url));
const apiTarget = 'http://127.0.0.1:7007';

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      output: {
        // Libraries change far less often than the portal: separate chunks stay cached across releases.
        codeSplitting: {
          groups: [
            // ECharts (tree-shaken in web/src/delivery/EChart.tsx) loads only with the rollout charts.
            { name: 'echarts', test: /node_modules[\\/](echarts|echarts-for-react|zrender|size-sensor)[\\/]/, priority: 2 },
            { name: 'mui', test: /node_modules[\\/](@mui[\\/](?!icons-material)[^\\/]+|@emotion|@popperjs|stylis|react-transition-group)[\\/]/, priority: 2 },
            // The template form's libraries (@rjsf, ajv and theirs) stay out of it: they load with the lazy form page.
            {
              name: 'vendor',
              test: /node_modules[\\/](?!echarts|echarts-for-react|zrender|size-sensor|@rjsf|ajv|ajv-formats|fast-uri|json-schema-traverse|fast-deep-equal|lodash|lodash-es|markdown-to-jsx|json-schema-merge-allof|compute-gcd|compute-lcm|validate\.io-|jsonpointer|@mui[\\/]icons-material)/,
              priority: 1,
            },
          ],
        },
      },
    },
  },
  server: {
    // `npx vite --config web/vite.config.ts` beside a running `plinth` gives hot reload on the real API.
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/healthz': { target: apiTarget },
      '/readyz': { target: apiTarget },
    },
  },
});
