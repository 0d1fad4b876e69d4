import { DEFAULT_TTLS, parseTtlOverrides, resolveTtls } from '../src/cache/ttl';
import { ConfigError, loadGatewayConfig } from '../src/config';

function configError(env: Record<string, string>): string {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('response cache configuration', () => {
  it('defaults to a 30 s TTL with the built-in table and no overrides', () => {
    expect(loadGatewayConfig({}).cache).toEqual({ ttlMs: 30_000, overrides: {} });
    expect(resolveTtls()).toEqual(DEFAULT_TTLS);
  });

  it('has the documented built-in TTLs', () => {
    expect(DEFAULT_TTLS).toEqual({
      IometerMeterReadingsResponse: 5_000,
      IometerMeterReading: 5_000,
      'IometerMeter.latestReadings': 5_000,
      IometerReading: 5_000,
      IometerDevice: 15_000,
      IometerDeviceCore: 15_000,
      IometerDeviceBridge: 15_000,
      IometerInstallation: 30_000,
      IometerLicense: 30_000,
      IometerLicensePool: 60_000,
      IometerSigningKey: 60_000,
      Customer: 60_000,
      Contract: 60_000,
      Tariff: 60_000,
      ConsumptionBucket: 3_600_000,
      MonthForecast: 3_600_000,
      ArchivedReadingConnection: 3_600_000,
    });
  });

  it('parses CACHE_TTL_OVERRIDES into milliseconds per coordinate, over the defaults', () => {
    const { cache } = loadGatewayConfig({
      CACHE_TTL: '0',
      CACHE_TTL_OVERRIDES: ' IometerDevice=10s, Query.customers=0,IometerMeter.latestReadings=2500ms,Tariff=1h,X=5,',
    });
    expect(cache).toEqual({
      ttlMs: 0,
      overrides: { IometerDevice: 10_000, 'Query.customers': 0, 'IometerMeter.latestReadings': 2_500, Tariff: 3_600_000, X: 5 },
    });
    expect(resolveTtls(cache.overrides)).toMatchObject({ IometerDevice: 10_000, IometerDeviceCore: 15_000, 'Query.customers': 0 });
  });

  it.each([
    ['IometerDevice', 'is not <Type>=<duration>'],
    ['IometerDevice=ten', 'is not <Type>=<duration>'],
    ['IometerDevice=-1s', 'is not <Type>=<duration>'],
    ['a.b.c=1s', 'is not <Type>=<duration>'],
    ['Iometer Device=1s', 'is not <Type>=<duration>'],
    ['IometerDevice=1s,IometerDevice=2s', '"IometerDevice" is given more than once'],
    ['IometerDevice=99999999999999999d', 'the duration is too large'],
  ])('rejects CACHE_TTL_OVERRIDES=%s, naming the variable', (value, problem) => {
    const message = configError({ CACHE_TTL_OVERRIDES: value });
    expect(message).toContain('CACHE_TTL_OVERRIDES: ');
    expect(message).toContain(problem);
    expect(() => parseTtlOverrides(value)).toThrow(problem);
  });

  it('rejects a CACHE_TTL that is not a duration', () => {
    expect(configError({ CACHE_TTL: '5 minutes' })).toContain('CACHE_TTL: must be a duration');
  });
});
