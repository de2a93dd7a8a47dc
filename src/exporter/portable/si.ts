/** systeminformation, loaded on first use: only macOS and Windows read metrics through it. */
export const systeminformation = () => import('systeminformation');
