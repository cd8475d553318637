/** SipEndpoint.config: reading and checking the configuration file. */

export {
  configFromTree,
  configFromXml,
  ConfigError,
  CONNECTION_DEFAULTS,
  MAX_SECONDS,
  parseServer,
  registrarDomain,
  type ConfigErrorCode,
  type ConnectionSettings,
  type EndpointConfig,
  type SipTransportName,
} from './endpoint-config.ts';
export { loadEndpointConfig, MAX_CONFIG_BYTES } from './load-config.ts';
export {
  parseXml,
  XML_DEFAULT_LIMITS,
  XmlError,
  type XmlElement,
  type XmlErrorCode,
  type XmlLimits,
  type XmlLocation,
} from './xml-reader.ts';
