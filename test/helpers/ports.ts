import { createServer, type AddressInfo } from 'node:net';

/** A TCP port free on loopback a moment ago (closed again, so a child process or a tool that takes a port can bind it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
