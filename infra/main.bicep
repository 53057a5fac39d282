// Skills Link on Azure Functions Flex Consumption, deployed with `azd up`.
// Storage is reached with a user-assigned managed identity only (no keys), App Service
// Authentication sits in front, and telemetry goes to Application Insights with
// Microsoft Entra authentication.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name and tag every resource.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
param location string

@description('Client id of the multi-tenant Microsoft Entra app registration that signs people in.')
param authClientId string

@secure()
@description('Client secret of that app registration (kept as an app setting App Service Authentication reads).')
param authClientSecret string

@description('Issuer of Microsoft Learn assertions (LEARN_ISSUER).')
param learnIssuer string

@description('Public key(s) of Microsoft Learn, PEM; several blocks during a key rotation (LEARN_PUBLIC_KEY).')
param learnPublicKey string

@description('Issuer of Partner University assertions (PARTNER_UNIVERSITY_ISSUER).')
param partnerUniversityIssuer string

@description('Public key(s) of Partner University, PEM (PARTNER_UNIVERSITY_PUBLIC_KEY).')
param partnerUniversityPublicKey string

@description('Audience both programs put in their assertions (ASSERTION_AUDIENCE).')
param assertionAudience string

@description('Where the portal sends a person to sign in to Microsoft Learn (LEARN_SIGN_IN_URL).')
param learnSignInUrl string = ''

@description('Where the portal sends a person to sign in to Partner University (PARTNER_UNIVERSITY_SIGN_IN_URL).')
param partnerUniversitySignInUrl string = ''

@description('Rule 6: association starts allowed in any window.')
param associationMaxPerWindow int = 3

@description('Rule 6: the window, ISO 8601.')
param associationWindow string = 'P365D'

@description('Rule 6: the cool-off between starts, ISO 8601.')
param associationCoolOff string = 'P30D'

@description('Rule 7: the delay before credit, ISO 8601.')
param creditDelay string = 'P10D'

var abbreviation = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-skills-${abbreviation}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${abbreviation}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${abbreviation}'
    applicationInsightsName: 'appi-${abbreviation}'
    location: location
    tags: tags
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    planName: 'plan-${abbreviation}'
    appName: 'func-skills-${abbreviation}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    authClientId: authClientId
    authClientSecret: authClientSecret
    learnIssuer: learnIssuer
    learnPublicKey: learnPublicKey
    partnerUniversityIssuer: partnerUniversityIssuer
    partnerUniversityPublicKey: partnerUniversityPublicKey
    assertionAudience: assertionAudience
    learnSignInUrl: learnSignInUrl
    partnerUniversitySignInUrl: partnerUniversitySignInUrl
    associationMaxPerWindow: associationMaxPerWindow
    associationWindow: associationWindow
    associationCoolOff: associationCoolOff
    creditDelay: creditDelay
  }
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
