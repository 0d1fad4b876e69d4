import { isCompositeType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';

/**
 * Why a schema coordinate (`Type` or `Type.field`) from the configuration names nothing in the
 * schema, or undefined when it names a composite type or a field of an object or interface type.
 * Introspection fields (`Query.__schema`) are listed by no type; `metaFields: true` accepts them.
 */
export function coordinateProblem(
  schema: GraphQLSchema,
  coordinate: string,
  { metaFields = false }: { metaFields?: boolean } = {},
): string | undefined {
  const [typeName, fieldName] = coordinate.split('.') as [string, string | undefined];
  const type = schema.getType(typeName);
  if (!type) return `"${coordinate}": the schema has no type ${typeName}`;
  if (fieldName === undefined) {
    return isCompositeType(type) ? undefined : `"${coordinate}": ${typeName} is not an object, interface or union type`;
  }
  if (metaFields && fieldName.startsWith('__')) return undefined;
  if (!(isObjectType(type) || isInterfaceType(type)) || !type.getFields()[fieldName]) {
    return `"${coordinate}": ${typeName} has no field ${fieldName}`;
  }
  return undefined;
}
