// Vite bundles imported stylesheets into the one CSS file the CSP allows ('self').
declare module '*.css';
