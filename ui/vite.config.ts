import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Tauri loads the built files from ui/dist; the dev server is only for `vite`.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "safari15", outDir: "dist", emptyOutDir: true },
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    // jsdom cannot draw a terminal: the unit tests get a stand-in that keeps
    // what was done to it (the GUI tests drive the real xterm.js).
    alias: [
      { find: /^@xterm\/xterm$/, replacement: fileURLToPath(new URL("./src/test/fake-xterm.ts", import.meta.url)) },
      { find: /^@xterm\/addon-fit$/, replacement: fileURLToPath(new URL("./src/test/fake-addon-fit.ts", import.meta.url)) },
    ],
  },
});
