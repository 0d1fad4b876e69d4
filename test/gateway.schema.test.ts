import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';
import { postGraphQL } from './helpers/clients';
import { startStack, type Stack } from './helpers/stack';

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

function gatewayName(type: GraphQLNamedType): string {
  return isScalarType(type) || ROOT_TYPES.has(type.name) ? type.name : `Iometer${type.name}`;
}

/** Prints a type reference the way it must appear in the gateway, e.g. [Meter!]! → [IometerMeter!]!. */
function renamedRef(type: GraphQLType): string {
  const named = getNamedType(type);
  return String(type).replace(new RegExp(`\\b${named.name}\\b`), gatewayName(named));
}

describe('unified schema', () => {
  let stack: Stack;
  let contract: GraphQLSchema;
  let unified: GraphQLSchema;

  beforeAll(async () => {
    stack = await startStack();
    contract = buildSchema(readFileSync(join(__dirname, '..', 'src', 'iometer', 'iometer.graphql'), 'utf8'));
    const response = await postGraphQL(stack.gateway.url, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    unified = buildClientSchema(response.body.data);
  });
  afterAll(() => stack.close());

  it('contains every documented type, field, argument, input field and enum value under the Iometer naming', () => {
    const documented = Object.values(contract.getTypeMap()).filter((type) => !type.name.startsWith('__'));
    expect(documented.length).toBeGreaterThan(35);
    for (const type of documented) {
      const counterpart = unified.getType(gatewayName(type));
      expect({ type: type.name, found: counterpart?.name, kind: counterpart?.constructor.name }).toEqual({
        type: type.name,
        found: gatewayName(type),
        kind: type.constructor.name,
      });
      if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(counterpart) || isInterfaceType(counterpart))) {
        expect(counterpart.getInterfaces().map((implemented) => implemented.name)).toEqual(
          type.getInterfaces().map(gatewayName),
        );
        for (const field of Object.values(type.getFields())) {
          const mirrored = counterpart.getFields()[field.name];
          expect(`${type.name}.${field.name}: ${mirrored && String(mirrored.type)}`).toBe(
            `${type.name}.${field.name}: ${renamedRef(field.type)}`,
          );
          expect(mirrored.description ?? null).toBe(field.description ?? null);
          expect(mirrored.deprecationReason ?? null).toBe(field.deprecationReason ?? null);
          for (const arg of field.args) {
            const mirroredArg = mirrored.args.find((candidate) => candidate.name === arg.name);
            expect(`${type.name}.${field.name}(${arg.name}: ${mirroredArg && String(mirroredArg.type)})`).toBe(
              `${type.name}.${field.name}(${arg.name}: ${renamedRef(arg.type)})`,
            );
          }
        }
      }
      if (isInputObjectType(type) && isInputObjectType(counterpart)) {
        for (const field of Object.values(type.getFields())) {
          expect(String(counterpart.getFields()[field.name]?.type)).toBe(renamedRef(field.type));
        }
      }
      if (isUnionType(type) && isUnionType(counterpart)) {
        expect(counterpart.getTypes().map((member) => member.name).sort()).toEqual(type.getTypes().map(gatewayName).sort());
      }
      if (isEnumType(type) && isEnumType(counterpart)) {
        expect(counterpart.getValues().map((value) => value.name)).toEqual(type.getValues().map((value) => value.name));
      }
    }
  });

  it('keeps root fields and scalars as documented and marks scheduledReadings deprecated', () => {
    expect(unified.getQueryType()?.getFields().provider.type.toString()).toBe('IometerProvider!');
    expect(Object.keys(unified.getMutationType()!.getFields())).toEqual(
      expect.arrayContaining(['createRegistrationToken', 'updateLicense']),
    );
    const subscription = unified.getSubscriptionType()!.getFields();
    expect(subscription.readings.type.toString()).toBe('IometerMeterReading!');
    expect(subscription.scheduledReadings.deprecationReason).toBe('use readings instead');
    for (const scalar of ['Uuid', 'DateTime', 'Date', 'Uri', 'ObisCode', 'MeterNumber']) {
      expect(isScalarType(unified.getType(scalar))).toBe(true);
    }
  });
});
