import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes straight into web/dist, which the Go binary embeds. Output names carry content
// hashes only (no timestamps), so the same sources and lockfile give byte-identical files and CI
// can check that the committed build is current (scripts/check-web-build.sh).
export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "../web/dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    // Keep small assets as files: data: URLs would need a looser Content-Security-Policy.
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev` against a local `go run .`; start the server with
    // BETTER_AUTH_TRUSTED_ORIGINS=http://localhost:5173 so its origin check accepts the dev page.
    proxy: {
      "/api": "http://localhost:8000",
      "/content": "http://localhost:8000",
    },
  },
});
