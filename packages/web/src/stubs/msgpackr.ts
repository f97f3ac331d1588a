/*
 * The web app speaks JSON to /rpc (RpcSerialization.layerJson). @effect/rpc's RpcSerialization module
 * imports msgpackr for its MessagePack serializers, and msgpackr's module-level code keeps all 28 kB of it
 * in the bundle; vite aliases msgpackr to this stub instead. Using MessagePack would fail loudly here.
 */
const unavailable = (): never => {
  throw new Error("MessagePack is not bundled in the web app: use RpcSerialization.layerJson")
}

export class Packr {
  constructor() {
    unavailable()
  }
}

export class Unpackr {
  constructor() {
    unavailable()
  }
}

export const encode = (_value: unknown): never => unavailable()

export const decode = (_bytes: unknown): never => unavailable()
