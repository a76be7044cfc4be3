/**
 * The renderer's Content Security Policy (Electron security checklist item 7): scripts and styles
 * only from the app itself, no inline script, no remote origin, no plugins, no framing. Images
 * may be data: URLs because QR codes arrive as PNG data URLs. This file imports nothing from
 * Electron, so the Chromium host serves the very same header.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
