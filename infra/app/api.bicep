// The function app on Flex Consumption (FC1). Storage settings are identity-based
// (no key, no connection string), App Service Authentication is in front with
// AllowAnonymous so that the app itself answers the contract's JSON 401, and every
// setting the code reads without a default is set here.
//
// Sign-in needs no client secret: the user-assigned identity is a federated identity
// credential of the app registration, named by OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID
// (as Azure-Samples/remote-mcp-functions-python does). The token store is off: the
// portal reads GET /api/whoami, which answers from the principal header alone.
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
param storageBlobEndpoint string
param storageTableEndpoint string
param storageQueueEndpoint string
param deploymentContainerName string
param applicationInsightsConnectionString string
param authClientId string
@description('The subnet the app is integrated into; empty without VNET_ENABLED.')
param appSubnetId string = ''
param learnIssuer string
param learnPublicKey string
param partnerUniversityIssuer string
param partnerUniversityPublicKey string
param assertionAudience string
param learnSignInUrl string
param partnerUniversitySignInUrl string
param associationMaxPerWindow int
param associationWindow string
param associationCoolOff string
param creditDelay string

var pythonVersion = '3.11'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    httpsOnly: true
    clientCertMode: 'Optional'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: 100
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// Child resources are declared beside their parent (not nested), so that every one
// of them is visible to the offline checks (pycep keeps one nested child per parent).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    AzureWebJobsDisableHomepage: 'true'
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
    AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
    AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
    LEARN_ISSUER: learnIssuer
    LEARN_PUBLIC_KEY: learnPublicKey
    PARTNER_UNIVERSITY_ISSUER: partnerUniversityIssuer
    PARTNER_UNIVERSITY_PUBLIC_KEY: partnerUniversityPublicKey
    ASSERTION_AUDIENCE: assertionAudience
    LEARN_SIGN_IN_URL: learnSignInUrl
    PARTNER_UNIVERSITY_SIGN_IN_URL: partnerUniversitySignInUrl
    ASSOCIATION_MAX_PER_WINDOW: string(associationMaxPerWindow)
    ASSOCIATION_WINDOW: associationWindow
    ASSOCIATION_COOL_OFF: associationCoolOff
    CREDIT_DELAY: creditDelay
  }
}

resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: 'https://login.microsoftonline.com/common/v2.0'
          clientId: authClientId
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          allowedAudiences: [
            authClientId
            'api://${authClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = app.name
output uri string = 'https://${app.properties.defaultHostName}'
